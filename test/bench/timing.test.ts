import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MAX_WARMUP_RUNS, timed, timedRunCount, warmUp } from '../../src/bench/timing.js';

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
