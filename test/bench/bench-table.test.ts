import assert from 'node:assert/strict';
import type { BenchModel, BenchResults } from '../../src/bench/bench-results.js';
import { benchRows, conversionRunsText, formatRatio } from '../../src/bench/bench-table.js';

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

describe('bench table: how the conversions were repeated', () => {
  const conversion = (paired: boolean) => ({ from: '.keras' as const, inputBytes: 1, wallS: 0.5, runs: 5, peakRssOverBaselineMb: 30, weightMbPerS: 600, ...(paired ? { baselineWallS: 0.3, workS: 0.2 } : {}) });
  const results = (paired: boolean, conversionRuns: number): BenchResults => ({
    schema: 'keras-bridge-bench',
    schemaVersion: 1,
    date: '2026-12-07',
    machine: {} as BenchResults['machine'],
    settings: { batchSizes: [1], repeats: 5, budgetS: 30, conversionRuns },
    models: [{ name: 'm', factory: 'f:m', parameters: 1, weightBytes: 4, keras: {}, backends: {}, conversion: [conversion(paired)], parity: [] }],
  });

  it('says each conversion ran just after a baseline of its own where the results paired them', () => {
    assert.equal(conversionRunsText(results(true, 5)), ', the median of 5 runs, each just after a run of the baseline (work: the median of the 5 differences)');
    assert.equal(conversionRunsText(results(true, 1)), ', just after a run of the baseline');
  });

  it('keeps the older wording for results timed against one baseline', () => {
    assert.equal(conversionRunsText(results(false, 5)), ', the median of 5 runs (and of 5 runs of the baseline)');
    assert.equal(conversionRunsText(results(false, 1)), '');
  });
});
