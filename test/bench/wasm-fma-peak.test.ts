import assert from 'node:assert/strict';
import { productMultiplyAdd } from '../../src/backends/wasm-simd/relaxed-simd.js';
import { macsPerCall, measureWasmFmaPeak, peakModule } from '../../src/bench/wasm-fma-peak.js';
import { ceilingRows, ceilingSummary, siCount } from '../../src/bench/product-ceiling.js';
import type { BenchResults } from '../../src/bench/bench-results.js';

// The peak is a measurement (never asserted against a speed); what is pinned here is that the loop
// computes the multiply-adds it counts, and that the report's arithmetic over it is right.
describe("wasm's multiply-add peak (bench)", function () {
  this.timeout(60_000);

  for (const multiplyAdd of ['separate', 'fused'] as const) {
    it(`runs ${multiplyAdd === 'fused' ? 'relaxed_madd' : 'a multiply and an add'} on every accumulator, each step`, function () {
      if (multiplyAdd === 'fused' && productMultiplyAdd() !== 'fused') this.skip();
      const memory = new WebAssembly.Memory({ initial: 1 });
      const peak = new WebAssembly.Instance(new WebAssembly.Module(peakModule(multiplyAdd)), { env: { memory } }).exports['peak'] as (steps: number, at: number) => void;
      const lanes = new Float32Array(memory.buffer);
      lanes.fill(2, 0, 4).fill(3, 4, 8).fill(1, 8, 12);
      peak(5, 0);
      // 12 accumulators of 4 lanes, each 1 + 5 · (2 · 3).
      assert.deepEqual([...lanes.subarray(12, 12 + 48)], Array.from({ length: 48 }, () => 31));
      assert.equal(macsPerCall(5), 5 * 12 * 4);
    });
  }

  it('measures every thread at once and sums them', async () => {
    const peak = await measureWasmFmaPeak(2, { seconds: 0.05, warmupMs: 20 });
    assert.ok(peak);
    assert.equal(peak.threads, 2);
    assert.equal(peak.multiplyAdd, productMultiplyAdd());
    assert.equal(peak.perThreadGmacs.length, 2);
    for (const g of peak.perThreadGmacs) assert.ok(Number.isFinite(g) && g > 0, String(g));
    assert.equal(peak.totalGmacs, peak.perThreadGmacs[0]! + peak.perThreadGmacs[1]!);
  });

  it("sets each model's products against Keras's time, wasm's and the peak", () => {
    const timing = (medianMs: number) => ({ medianMs, p10Ms: medianMs, p90Ms: medianMs, runs: 5 });
    const keras = { function_forward: timing(10), function_backward: timing(30), eager_forward: timing(20), eager_backward: timing(60) };
    const run = {
      machine: { wasmFmaPeak: { threads: 2, multiplyAdd: 'fused', perThreadGmacs: [25, 25], totalGmacs: 50 } },
      models: [
        {
          name: 'm',
          keras: { '32': keras, '1': keras },
          backends: { wasm: { loadMs: 1, batches: { '32': { forward: timing(40), backward: timing(90) } }, leakedTensors: 0, peakRssMb: 1 } },
          forwardProductMacs: { '32': 2e9, '1': 6.25e7 },
        },
        { name: 'uncounted', keras: { '32': keras }, backends: {} },
      ],
    } as unknown as BenchResults;
    assert.deepEqual(ceilingRows(run), [
      ['m', '1', '62.5 M', '6.3', '-', '1.3', '0.13x'],
      // 2e9 over 10 ms: 200 G/s; over wasm's 40 ms: 50; at 50 G/s the products take 40 ms, 4x Keras's pass.
      ['m', '32', '2 G', '200.0', '50.0', '40.0', '4.00x'],
    ]);
    assert.match(ceilingSummary(run)!, /^wasm's 128-bit SIMD peak: 50\.0 billion multiply-adds a second on 2 threads \(25\.0 \+ 25\.0; relaxed_madd/);
    assert.deepEqual(ceilingRows({ ...run, machine: {} } as unknown as BenchResults), []);
    assert.deepEqual([1408, 131e9, 1.5e6, 999].map(siCount), ['1.41 K', '131 G', '1.5 M', '999']);
  });
});
