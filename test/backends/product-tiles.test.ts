import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { activeBackendName, probeBackend, useBackend } from '../../src/backends/index.js';
import { simdProductCalls } from '../../src/backends/kernel-fixes/batch-mat-mul-composed.js';
import { generator } from '../support/heap-cases.js';

interface ProductCase {
  batch: number[];
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** Random batched products: edges included (n from 4 to 37, so every column remainder; odd m; k = 1). */
function cases(count: number): ProductCase[] {
  const pick = generator(31337);
  return Array.from({ length: count }, (_, i) => ({
    batch: i % 5 === 0 ? [2, 1 + pick(3)] : [2 + pick(4)],
    m: 1 + pick(9),
    k: i % 7 === 0 ? 1 : 1 + pick(40),
    n: 4 + pick(34),
    transposeA: i % 4 === 1 || i % 4 === 3,
    transposeB: i % 4 >= 2,
  }));
}

/** Values that vary in sign and magnitude, different in every position. */
function values(shape: number[], seed: number): Float32Array {
  const pick = generator(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return Float32Array.from({ length: n }, () => (pick(2001) - 1000) / 137);
}

/** The products summed as the tiles sum them: in float32, in depth order from 0, one rounding per multiply and per add. */
function sequentialFloat32(a: Float32Array, b: Float32Array, batches: number, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(batches * m * n);
  for (let p = 0; p < batches; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let t = 0; t < k; t++) sum = Math.fround(sum + Math.fround(a[(p * m + i) * k + t]! * b[(p * k + t) * n + j]!));
        out[(p * m + i) * n + j] = sum;
      }
  return out;
}

/** [..., r, c] data laid out as [..., c, r]. */
function swapLastTwo(data: Float32Array, batches: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let p = 0; p < batches; p++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[(p * cols + c) * rows + r] = data[(p * rows + r) * cols + c]!;
  return out;
}

// wasm's batched BatchMatMul in keras-bridge's SIMD tiles (wasm-simd/product-tiles.ts, batch-mat-mul-composed.ts).
describe('wasm: batched products in SIMD tiles on the heap (src/backends/wasm-simd/product-tiles.ts)', function () {
  let previous: string | undefined;
  before(async function () {
    if (!(await probeBackend('wasm')).available) this.skip();
    previous = activeBackendName();
    await useBackend('wasm');
  });
  after(async () => {
    if (previous) await useBackend(previous as 'cpu');
  });

  it('120 random batched products, either operand transposed or not, equal float32 sums in depth order bit for bit, through the tiles', () => {
    const all = cases(120);
    const before = simdProductCalls.count;
    const tensors = tf.memory().numTensors;
    all.forEach((c, i) => {
      const batches = c.batch.reduce((p, d) => p * d, 1);
      const a = values([batches, c.m, c.k], 2 * i + 1);
      const b = values([batches, c.k, c.n], 2 * i + 2);
      const expected = sequentialFloat32(a, b, batches, c.m, c.k, c.n);
      const aGiven = c.transposeA ? swapLastTwo(a, batches, c.m, c.k) : a;
      const bGiven = c.transposeB ? swapLastTwo(b, batches, c.k, c.n) : b;
      const got = tf.tidy(() => {
        const at = tf.tensor(aGiven, [...c.batch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])]);
        const bt = tf.tensor(bGiven, [...c.batch, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])]);
        const product = tf.matMul(at, bt, c.transposeA, c.transposeB);
        assert.deepEqual(product.shape, [...c.batch, c.m, c.n]);
        return product.dataSync() as Float32Array;
      });
      assert.deepEqual(got, expected, `case ${i}: ${JSON.stringify(c)}`);
    });
    assert.equal(simdProductCalls.count - before, all.length);
    assert.equal(tf.memory().numTensors, tensors);
  });

  it('what the tiles do not take runs tfjs\'s kernel, with the same values: fewer than 4 columns, one batch, broadcast batches', () => {
    const before = simdProductCalls.count;
    for (const [aShape, bShape] of [[[3, 5, 6], [3, 6, 3]], [[1, 7, 9], [1, 9, 8]], [[3, 4, 5], [1, 5, 8]]] as const) {
      const a = values([...aShape], 7);
      const b = values([...bShape], 8);
      const got = tf.tidy(() => tf.matMul(tf.tensor(a, [...aShape]), tf.tensor(b, [...bShape])).dataSync());
      const batches = aShape[0];
      const bFull = bShape[0] === batches ? b : Float32Array.from({ length: batches * b.length }, (_, i) => b[i % b.length]!);
      const [m, k, n] = [aShape[1], aShape[2], bShape[2]];
      // tfjs's kernels sum in blocks and in another order: within the float32 bound of a k-term dot product, 2·k·2⁻²⁴·Σ|a·b|.
      for (let p = 0; p < batches; p++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let [exact, magnitude] = [0, 0];
            for (let t = 0; t < k; t++) {
              const term = a[(p * m + i) * k + t]! * bFull[(p * k + t) * n + j]!;
              exact += term;
              magnitude += Math.abs(term);
            }
            const v = got[(p * m + i) * n + j]!;
            assert.ok(Math.abs(v - exact) <= 2 * k * 2 ** -24 * magnitude, `${aShape}·${bShape} at ${p},${i},${j}: ${v} against ${exact}`);
          }
    }
    assert.equal(simdProductCalls.count, before);
  });
});
