import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ALTERNATING_ROUNDS, MAX_WARMUP_RUNS, summarize, timed, timedAlternating, timedRunCount, warmUp, type AlternatingReference } from '../../src/bench/timing.js';

// A pass that lasts at least `ms` by the clock timing.ts reads. Not a timer: Node's timers keep
// time in whole milliseconds, so a 20 ms setTimeout can measure 19.x ms by performance.now() (seen
// in CI: a first pass under 20 ms asked for 11 runs to fill 0.2 s).
const pass = async (ms: number) => {
  const start = performance.now();
  while (performance.now() - start < ms) { /* busy: the bound must hold on performance.now() */ }
  await Promise.resolve();
};

// Both sides of the bench warm up by the same rule (timing.ts; scripts/bench_keras.py, warm_up).
describe('bench timing: warm-up by seconds, at most 50 runs, at least one', () => {
  it('runs once when no warm-up time is given (--warmup 0)', async () => {
    let calls = 0;
    assert.equal(await warmUp(async () => void calls++, 0), 1);
    assert.equal(calls, 1);
  });

  it('stops at 50 runs however many the seconds would allow', async () => {
    let calls = 0;
    assert.equal(await warmUp(async () => void calls++, 60), MAX_WARMUP_RUNS);
    assert.equal(calls, MAX_WARMUP_RUNS);
  });

  it('stops once the seconds have passed, with the run that passed them', async () => {
    const runs = await warmUp(() => pass(20), 0.1);
    // Runs of at least 20 ms: the 100 ms are passed by the 5th run at the latest.
    assert.ok(runs >= 2 && runs <= 5, `${runs} runs`);
  });

  it('times `repeats` runs after the warm-up, the first of them included', async () => {
    let calls = 0;
    const timing = await timed(async () => void calls++, 7, 60, 0, 0);
    assert.ok('runs' in timing);
    assert.equal(timing.runs, 7);
    assert.equal(calls, 1 + 7);
    assert.ok(timing.p10Ms <= timing.medianMs && timing.medianMs <= timing.p90Ms);
  });

  it('adds runs to a timing of short passes until they last the minimum time', async () => {
    let calls = 0;
    // Passes of at least 20 ms: 0.2 s fills with at most 10 runs, 3 repeats alone would not.
    const timing = await timed(async () => { calls++; await pass(20); }, 3, 60, 0, 0.2);
    assert.ok('runs' in timing);
    assert.ok(timing.runs > 3 && timing.runs <= 10, `${timing.runs} runs`);
    assert.equal(calls, 1 + timing.runs);
  });
});

// The same cases as python/tests/test_bench_warmup.py: both sides count runs alike.
describe('bench timing: how many runs a timing makes', () => {
  const { cases } = JSON.parse(readFileSync(new URL('../../../test/bench/run-count-cases.json', import.meta.url), 'utf8')) as {
    cases: Array<{ firstS: number; repeats: number; budgetS: number; minTimeS: number; runs: number; why: string }>;
  };
  for (const c of cases) {
    it(`${c.runs} runs for a first run of ${c.firstS} s, ${c.repeats} repeats, ${c.budgetS} s budget, ${c.minTimeS} s minimum: ${c.why}`, () => {
      assert.equal(timedRunCount(c.firstS, c.repeats, c.budgetS, c.minTimeS), c.runs);
    });
  }
});

// A cell's passes alternate with Keras's runs of the same pass (the bench's Keras partner), so that
// this machine's slow and fast moments fall on both sides of a ratio alike.
describe('bench timing: alternating with a reference', () => {
  /** A reference whose runs last `ms` each, logging every request in `events`. */
  const reference = (events: string[], ms: number): AlternatingReference => ({
    warm: async (s) => void events.push(`warm ${s}`),
    run: async (runs) => {
      events.push(`reference ${runs}`);
      return Array.from({ length: runs }, () => ms);
    },
  });

  it('warms both, takes a first run of each, then alternates the rest in rounds, the reference first in each', async () => {
    const events: string[] = [];
    let ours = 0;
    const { ours: timing, reference: theirs } = await timedAlternating(async () => void (ours++, events.push('ours')), reference(events, 2), 7, 60, 0, 0);
    assert.equal(events[0], 'warm 0');
    assert.equal(events[1], 'ours', 'our warm-up after the reference is warm');
    assert.deepEqual(events.slice(2, 4), ['reference 1', 'ours'], 'a first timed run of each');
    // 7 runs each: 6 left, in 6 rounds of one (fewer runs than ALTERNATING_ROUNDS).
    const rest = events.slice(4);
    assert.deepEqual(rest, Array.from({ length: 6 }, () => ['reference 1', 'ours']).flat());
    assert.ok('runs' in timing && 'runs' in theirs);
    assert.equal(timing.runs, 7);
    assert.equal(theirs.runs, 7);
    assert.equal(ours, 1 + 7, 'one warm-up run and 7 timed');
    assert.ok('medianMs' in theirs && theirs.medianMs === 2);
  });

  it("splits each side's own run count (timedRunCount from its first run) into at most ALTERNATING_ROUNDS rounds", async () => {
    const events: string[] = [];
    // The reference's 1 ms runs fill 0.1 s with 100 runs; ours, of 5 ms, with 20.
    const { ours, reference: theirs } = await timedAlternating(() => pass(5), reference(events, 1), 3, 60, 0, 0.1);
    assert.ok('runs' in ours && 'runs' in theirs);
    assert.equal(theirs.runs, timedRunCount(0.001, 3, 60, 0.1));
    assert.ok(ours.runs >= 3 && ours.runs <= 21, `ours ${ours.runs}`);
    const rounds = events.filter((e) => e.startsWith('reference')).length - 1;
    assert.equal(rounds, ALTERNATING_ROUNDS);
    const shares = events.filter((e) => e.startsWith('reference')).slice(1).map((e) => Number(e.split(' ')[1]));
    assert.equal(shares.reduce((a, b) => a + b, 0), theirs.runs - 1);
    assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `even shares: ${shares.join(', ')}`);
  });

  it('leaves both sides idle for settleMs before each share, so neither runs while the other\'s threads spin down', async () => {
    const spans: Array<{ side: string; start: number; end: number }> = [];
    const timedReference: AlternatingReference = {
      warm: async () => undefined,
      run: async (runs) => {
        const start = performance.now();
        await pass(1);
        spans.push({ side: 'reference', start, end: performance.now() });
        return Array.from({ length: runs }, () => 1);
      },
    };
    const ours = async () => {
      const start = performance.now();
      await pass(1);
      spans.push({ side: 'ours', start, end: performance.now() });
    };
    await timedAlternating(ours, timedReference, 4, 60, 0, 0, 15);
    let switches = 0;
    for (let i = 1; i < spans.length; i++) {
      if (spans[i]!.side === spans[i - 1]!.side) continue;
      switches++;
      // Node's timers keep whole milliseconds: a 15 ms wait can read 14.x by performance.now().
      assert.ok(spans[i]!.start - spans[i - 1]!.end >= 14, `${spans[i - 1]!.side} → ${spans[i]!.side}: ${(spans[i]!.start - spans[i - 1]!.end).toFixed(1)} ms idle`);
    }
    assert.ok(switches >= 6, `${switches} switches`);
  });

  it('lets an error of the reference through, for the caller to time the pass alone', async () => {
    const failing: AlternatingReference = { warm: async () => { throw new Error('Keras cannot run this'); }, run: async () => [] };
    await assert.rejects(timedAlternating(() => pass(0), failing, 3, 60, 0, 0), /Keras cannot run this/);
  });

  it('summarizes run times as both sides do: the median (of the middle two for an even count) and the 10th and 90th percentiles', () => {
    assert.deepEqual(summarize([5, 1, 3]), { medianMs: 3, p10Ms: 1, p90Ms: 5, runs: 3 });
    assert.deepEqual(summarize([4, 1, 3, 2]), { medianMs: 2.5, p10Ms: 1, p90Ms: 4, runs: 4 });
  });
});
