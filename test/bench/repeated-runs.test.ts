import assert from 'node:assert/strict';
import { summarizeRuns } from '../../src/bench/repeated-runs.js';

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
