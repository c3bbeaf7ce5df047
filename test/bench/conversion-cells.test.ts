import assert from 'node:assert/strict';
import { conversionCells, CONVERSION_RESOLUTION_S } from '../../src/bench/bench-table.js';

const MB = 2 ** 20;

describe('the conversion table\'s cells (src/bench/bench-table.ts, conversionCells)', () => {
  it('shows the rate, the RSS over the baseline and its ratio to the weights where the work is past the resolution', () => {
    // 97.8 MB converted in 0.24 s of work: 411 MB/s.
    assert.deepEqual(conversionCells({ weightMbPerS: 411, peakRssOverBaselineMb: 39 }, 97.8 * MB), ['411', '39', '0.40x']);
  });

  it('leaves out a rate whose work is within the baseline process\'s spread (a 3 MB model in 1 ms), and a negative RSS', () => {
    assert.deepEqual(conversionCells({ weightMbPerS: 3013, peakRssOverBaselineMb: -3 }, 3 * MB), ['-', '-', '-']);
    assert.deepEqual(conversionCells({ weightMbPerS: 16000, peakRssOverBaselineMb: 10 }, 16 * MB), ['-', '10', '0.63x']);
    // Just past the resolution, the rate is shown.
    const mb = 16;
    assert.equal(conversionCells({ weightMbPerS: mb / (CONVERSION_RESOLUTION_S * 1.01), peakRssOverBaselineMb: 58 }, mb * MB)[0], (mb / (CONVERSION_RESOLUTION_S * 1.01)).toFixed(0));
  });

  it('has no rate for a model without weights, or under 1 MB of them', () => {
    assert.deepEqual(conversionCells({ weightMbPerS: 0, peakRssOverBaselineMb: 54 }, 0), ['-', '54', '-']);
    assert.deepEqual(conversionCells({ weightMbPerS: 0.4, peakRssOverBaselineMb: 54 }, 0.01 * MB), ['-', '54', '-']);
  });
});
