import assert from 'node:assert/strict';
import type { BenchModel } from '../../src/bench/bench-results.js';
import { benchRows, formatRatio } from '../../src/bench/bench-table.js';

// A cell timed in alternation with Keras is divided by those Keras runs; one timed alone (a
// browser page, results from before, --alone) by the model's keras tf.function row.
describe('bench table: the Keras figure each ratio is taken to', () => {
  const t = (medianMs: number) => ({ medianMs, p10Ms: medianMs, p90Ms: medianMs, runs: 5 });
  const model: BenchModel = {
    name: 'm',
    factory: 'f:m',
    parameters: 1,
    weightBytes: 4,
    keras: { '1': { function_forward: t(10), function_backward: t(20), eager_forward: t(30), eager_backward: t(40) } },
    backends: {
      wasm: { loadMs: 1, leakedTensors: 0, peakRssMb: 1, batches: { '1': { forward: t(18), backward: t(50), kerasAlongside: { forward: t(12), backward: { skipped: 'Keras cannot run this' } } } } },
      'chromium-wasm': { loadMs: 1, leakedTensors: 0, peakRssMb: null, batches: { '1': { forward: t(15), backward: t(30) } } },
    },
    conversion: [],
    parity: [],
  };

  it('divides by the alternated Keras median where the cell has one, else by the model row', () => {
    const rows = benchRows(model);
    const wasm = rows.find((r) => r.runtime === 'wasm')!;
    assert.equal(wasm.forwardRatio, 18 / 12);
    assert.equal(wasm.forwardAgainstMs, 12);
    assert.equal(wasm.backwardRatio, 50 / 20, "a pass Keras could not run alongside: the model's row");
    assert.equal(wasm.backwardAgainstMs, undefined);
    const page = rows.find((r) => r.runtime === 'chromium-wasm')!;
    assert.equal(page.forwardRatio, 1.5);
    assert.equal(page.forwardAgainstMs, undefined);
  });

  it("prints the alternated Keras median after the ratio it divides, and nothing after the model row's", () => {
    assert.equal(formatRatio(1.5, 12), '1.50x of 12.0');
    assert.equal(formatRatio(0.91, 2.538), '0.91x of 2.54');
    assert.equal(formatRatio(2.5), '2.50x');
    assert.equal(formatRatio(null, 12), '-');
  });
});
