/** How long one way of running took: the median and spread of `runs` runs after a warm-up, or why it was not run. */
export type Timing = { medianMs: number; p10Ms: number; p90Ms: number; runs: number } | { skipped: string };

/** Warm-up runs before a timing, whatever its seconds allow. */
export const MAX_WARMUP_RUNS = 50;

/** Seconds of warm-up runs before each timing, by default (`npm run bench -- --warmup S`). */
export const DEFAULT_WARMUP_S = 3;

/**
 * Runs `fn` until `warmupS` seconds have passed or MAX_WARMUP_RUNS runs, at least once: kernel
 * compilation and allocation, and the runtime's own warming. Both sides speed up over their first
 * tens of runs (measured, the Transformer block at batch 1: tfjs on tensorflow from 10-12 ms to
 * 6.5 ms over 50 runs, on wasm from 15 to 7 ms, Keras's tf.function from 4 to 3 ms), and a model
 * deployed runs far more than one.
 */
export async function warmUp(fn: () => Promise<void>, warmupS: number): Promise<number> {
  const start = performance.now();
  let runs = 0;
  do {
    await fn();
    runs++;
  } while (runs < MAX_WARMUP_RUNS && performance.now() - start < warmupS * 1000);
  return runs;
}

/**
 * Seconds a timing's runs last at least, by default (`npm run bench -- --min-time S`): a pass of a
 * few milliseconds gets more runs than `repeats`, since a garbage collection or another process
 * then lands in a large share of a few runs (measured: the Transformer block's forward+backward at
 * batch 1 on wasm, median of 5 runs 20.3 ms, spread 16.6-37.4; of 20 runs 14.0-14.4 ms).
 */
export const DEFAULT_MIN_TIME_S = 1;

/** Timed runs that the minimum time adds, at most: a pass of microseconds would otherwise run a million. */
export const MAX_TIMED_RUNS = 500;

/**
 * How many runs a timing makes, from its first timed run: `repeats`, more (up to MAX_TIMED_RUNS)
 * until they would last `minTimeS`, fewer when they would take more than `budgetS` seconds (but at
 * least 3, or 1 when one run alone is over a third of the budget). The same rule as
 * scripts/bench_keras.py's `run_count`, so that both sides' medians and spreads mean the same.
 */
export function timedRunCount(firstS: number, repeats: number, budgetS: number, minTimeS: number): number {
  const oneS = Math.max(firstS, 1e-6);
  const withinBudget = Math.max(firstS <= budgetS / 3 ? 3 : 1, Math.floor(budgetS / oneS));
  const toFill = Math.min(MAX_TIMED_RUNS, Math.ceil(minTimeS / oneS));
  return Math.max(1, Math.min(Math.max(repeats, toFill), withinBudget));
}

/** Times `fn`: warmUp, then as many runs as timedRunCount says from the first of them. */
export async function timed(fn: () => Promise<void>, repeats: number, budgetS: number, warmupS = DEFAULT_WARMUP_S, minTimeS = DEFAULT_MIN_TIME_S): Promise<Timing> {
  await warmUp(fn, warmupS);
  const times = await runTimes(fn, 1);
  const runs = timedRunCount(times[0]! / 1000, repeats, budgetS, minTimeS);
  times.push(...(await runTimes(fn, runs - 1)));
  return summarize(times);
}

/** `runs` runs of `fn`, one after another: each one's milliseconds. */
async function runTimes(fn: () => Promise<void>, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

/** The median and the 10th and 90th percentiles of run times (ms), as both sides report them. */
export function summarize(runTimesMs: readonly number[]): Timing {
  const times = [...runTimesMs].sort((a, b) => a - b);
  const pick = (q: number) => times[Math.min(times.length - 1, Math.round(q * (times.length - 1)))]!;
  const median = times.length % 2 === 1 ? times[(times.length - 1) / 2]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
  return { medianMs: median, p10Ms: pick(0.1), p90Ms: pick(0.9), runs: times.length };
}

/**
 * The other runtime's same pass, run on request: Keras's tf.function in its own process
 * (keras-partner.ts), for a timing whose runs alternate with it (timedAlternating).
 */
export interface AlternatingReference {
  /** Warm-up runs for `warmupS` seconds (at most 50, at least one), by warmUp's rule. */
  warm(warmupS: number): Promise<void>;
  /** `runs` runs; each one's milliseconds. */
  run(runs: number): Promise<number[]>;
}

/** Why the reference could not run a pass (Keras cannot, or its process failed): the pass is then timed alone. */
export class ReferenceCannotRun extends Error {}

/**
 * Rounds a timing alternating with a reference is cut into at most: the reference's share of its
 * runs, then ours, and again. This 2-core machine's speed moves by 20% and more for seconds to
 * minutes at a time (docs/performance.md, thirty-sixth section): two timings made minutes apart
 * divide one moment's speed by another's, where alternating runs see the same moments.
 */
export const ALTERNATING_ROUNDS = 8;

/**
 * Milliseconds both sides stay idle before each side's share of runs: the threads of the side
 * that ran last (TensorFlow's pools spin after their work before they sleep) must not take the
 * cores from the side that runs next. Measured (MobileNetV2's forward+backward at batch 1, Keras
 * against tfjs-node, 8 blocks each way): switching at once, Keras's alternated median was 1-17%
 * over its median alone in all 8 blocks (8% on average), a bias in keras-bridge's favour; with 20
 * ms between, -8% to +9% of it (+0.7% on average), while keras-bridge's was -2% to +18% over its
 * own alone (+6.6%): what is left leans against keras-bridge (docs/performance.md, thirty-sixth
 * section).
 */
export const SETTLE_MS = 20;

const settle = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Times `fn` and the reference in alternation: each warmed up (warmUp's rule), a first timed run
 * of each, each side's run count from its own first run (timedRunCount, as timed()), then the
 * remaining runs of both in up to ALTERNATING_ROUNDS rounds, the reference's share first in each;
 * `settleMs` of idleness before each share (SETTLE_MS).
 */
export async function timedAlternating(
  fn: () => Promise<void>,
  reference: AlternatingReference,
  repeats: number,
  budgetS: number,
  warmupS = DEFAULT_WARMUP_S,
  minTimeS = DEFAULT_MIN_TIME_S,
  settleMs = SETTLE_MS,
): Promise<{ ours: Timing; reference: Timing }> {
  await reference.warm(warmupS);
  await settle(settleMs);
  await warmUp(fn, warmupS);
  await settle(settleMs);
  const runTheirs = async (runs: number) => {
    const times = await reference.run(runs);
    await settle(settleMs);
    return times;
  };
  const referenceTimes = await runTheirs(1);
  const ourTimes: number[] = [];
  const runOurs = async (runs: number) => {
    if (runs === 0) return;
    ourTimes.push(...(await runTimes(fn, runs)));
    await settle(settleMs);
  };
  await runOurs(1);
  const referenceRuns = timedRunCount(referenceTimes[0]! / 1000, repeats, budgetS, minTimeS);
  const ourRuns = timedRunCount(ourTimes[0]! / 1000, repeats, budgetS, minTimeS);
  const rounds = Math.max(1, Math.min(ALTERNATING_ROUNDS, referenceRuns - 1, ourRuns - 1));
  // Round r runs the runs from share(n, r) to share(n, r + 1) of each side's n - 1 remaining.
  const share = (n: number, r: number) => Math.round(((n - 1) * r) / rounds);
  for (let r = 0; r < rounds; r++) {
    const theirs = share(referenceRuns, r + 1) - share(referenceRuns, r);
    if (theirs > 0) referenceTimes.push(...(await runTheirs(theirs)));
    await runOurs(share(ourRuns, r + 1) - share(ourRuns, r));
  }
  return { ours: summarize(ourTimes), reference: summarize(referenceTimes) };
}

/** A Keras timing as scripts/bench_keras.py prints it, in this module's shape. */
export function fromPython(figure: { median_ms: number; p10_ms: number; p90_ms: number; runs: number } | { skipped: string }): Timing {
  return 'skipped' in figure ? { skipped: figure.skipped } : { medianMs: figure.median_ms, p10Ms: figure.p10_ms, p90Ms: figure.p90_ms, runs: figure.runs };
}
