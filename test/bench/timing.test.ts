import assert from 'node:assert/strict';
import { MAX_WARMUP_RUNS, timed, warmUp } from '../../src/bench/timing.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
    const runs = await warmUp(() => sleep(20), 0.1);
    // 20 ms runs (timers may fire late, never early): the 100 ms are passed by the 5th run at the latest.
    assert.ok(runs >= 2 && runs <= 5, `${runs} runs`);
  });

  it('times `repeats` runs after the warm-up, the first of them included', async () => {
    let calls = 0;
    const timing = await timed(async () => void calls++, 7, 60, 0);
    assert.ok('runs' in timing);
    assert.equal(timing.runs, 7);
    assert.equal(calls, 1 + 7);
    assert.ok(timing.p10Ms <= timing.medianMs && timing.medianMs <= timing.p90Ms);
  });
});
