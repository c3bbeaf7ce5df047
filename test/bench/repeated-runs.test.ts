import assert from 'node:assert/strict';
import { summarizePairs, summarizeRuns } from '../../src/bench/repeated-runs.js';

// src/bench/repeated-runs.ts: a conversion's figures are the medians of several whole-process runs.
describe('runs of one command, summarized', () => {
  it('takes the median wall time and, on its own, the median peak RSS, with the wall times\' range', () => {
    const runs = [
      { wallS: 0.81, peakRssMb: 300 },
      { wallS: 0.74, peakRssMb: 320 },
      { wallS: 0.92, peakRssMb: 290 },
      { wallS: 0.77, peakRssMb: 310 },
      { wallS: 0.79, peakRssMb: 305 },
    ];
    assert.deepEqual(summarizeRuns(runs), { wallS: 0.79, wallRangeS: [0.74, 0.92], peakRssMb: 305, runs: 5 });
  });

  it('averages the middle two of an even count, and is the run itself for one', () => {
    assert.deepEqual(summarizeRuns([{ wallS: 1, peakRssMb: 10 }, { wallS: 3, peakRssMb: 30 }]), { wallS: 2, wallRangeS: [1, 3], peakRssMb: 20, runs: 2 });
    assert.deepEqual(summarizeRuns([{ wallS: 0.5, peakRssMb: 7 }]), { wallS: 0.5, wallRangeS: [0.5, 0.5], peakRssMb: 7, runs: 1 });
    assert.throws(() => summarizeRuns([]), /no runs/);
  });
});

describe('runs paired with their baselines, summarized', () => {
  it('takes the work as the median of each run less its own baseline, not the difference of the medians', () => {
    // A slow stretch in the middle slows both of the third pair: its difference stays the work.
    const pairs = [
      { baseline: { wallS: 0.3, peakRssMb: 80 }, run: { wallS: 0.48, peakRssMb: 116 } },
      { baseline: { wallS: 0.31, peakRssMb: 82 }, run: { wallS: 0.5, peakRssMb: 115 } },
      { baseline: { wallS: 0.45, peakRssMb: 81 }, run: { wallS: 0.63, peakRssMb: 117 } },
    ];
    const summary = summarizePairs(pairs);
    assert.equal(summary.wallS, 0.5);
    assert.deepEqual(summary.wallRangeS, [0.48, 0.63]);
    assert.equal(summary.baselineWallS, 0.31);
    assert.ok(Math.abs(summary.workS - 0.18) < 1e-12, `work ${summary.workS}`);
    assert.equal(summary.peakRssOverBaselineMb, 36);
    assert.equal(summary.runs, 3);
    // The difference of the medians (0.5 - 0.31) is what the bench took before.
    assert.notEqual(summary.workS, summary.wallS - summary.baselineWallS);
    assert.throws(() => summarizePairs([]), /no runs/);
  });
});
