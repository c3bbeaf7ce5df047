import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { simdMaxPoolGradientRows } from '../../src/backends/kernel-fixes/heap-max-pool-grad.js';
import { generator } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

interface PoolCase {
  shape: [number, number, number, number];
  filter: [number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
}

/** Random poolings: channels mostly whole vectors (the SIMD rows), some not; windows that overlap, touch or skip. */
function cases(count: number): PoolCase[] {
  const pick = generator(4242);
  return Array.from({ length: count }, (_, i) => {
    const filter: [number, number] = [1 + pick(4), 1 + pick(4)];
    const shape: [number, number, number, number] = [1 + pick(2), filter[0] + pick(9), filter[1] + pick(9), i % 5 === 4 ? 1 + pick(7) : 4 * (1 + pick(4))];
    return { shape, filter, strides: [1 + pick(3), 1 + pick(3)], pad: pick(2) === 0 ? 'same' : 'valid' };
  });
}

/** Values with many ties (a few levels, ReLU's zeros) and all-negative stretches. */
function values(shape: number[], seed: number): tf.Tensor4D {
  const pick = generator(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return tf.tensor4d(Float32Array.from({ length: n }, () => (pick(3) === 0 ? 0 : (pick(9) - 6) * 0.75)), shape as [number, number, number, number]);
}

// wasm's MaxPoolGrad: windows wholly inside in SIMD rows (wasm-simd/max-pool-gradient.ts), the border's in JavaScript.
describe('wasm: max pooling\'s gradient in SIMD rows (src/backends/wasm-simd/max-pool-gradient.ts)', function () {
  onWasm({ activate: false });

  it('200 random poolings with ties equal cpu\'s gradient bit for bit (the first of equal maxima takes it; overlapping windows sum in order)', async () => {
    const all = cases(200);
    const run = (c: PoolCase, k: number) =>
      tf.tidy(() => {
        const x = values(c.shape, 3 * k + 1);
        const f = (input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, c.filter, c.strides, c.pad), values(tf.maxPool(x, c.filter, c.strides, c.pad).shape, 3 * k + 2)));
        return Array.from(tf.grad(f)(x).dataSync());
      });
    await useBackend('cpu');
    const expected = all.map(run);
    await useBackend('wasm');
    const before = simdMaxPoolGradientRows.count;
    all.forEach((c, k) => assert.deepEqual(run(c, k), expected[k], `case ${k}: ${JSON.stringify(c)}`));
    assert.ok(simdMaxPoolGradientRows.count - before > 300, `${simdMaxPoolGradientRows.count - before} rows in SIMD`);
  });
});
