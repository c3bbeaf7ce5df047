import assert from 'node:assert/strict';
import tf from '#tfjs';
import '../../src/runtime.js';
import { GELU_GRADIENT_KERNEL, GELU_KERNEL, heapGelu, heapGeluGradient, simdGeluCalls, simdGeluGradientCalls } from '../../src/backends/kernel-fixes/heap-gelu.js';
import { activeBackendName, useBackend, type BackendName } from '../../src/backends/index.js';
import { geluFloat32, geluGradientFloat32 } from '../../src/backends/wasm-simd/gelu.js';
import { generator } from '../support/heap-cases.js';
import { sameBits } from '../support/same-bits.js';
import { onWasm } from '../support/backend-suite.js';

/** tfjs-layers' `gelu` activation, as it composes it (activations.js): x · (0.5 · (1 + erf(x / √2))). */
function composedGelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.sqrt(2)))))));
}

/** The `gelu` activation tfjs-layers registers, as a model's Dense or Activation layer gets it. */
function geluActivation(): { apply(x: tf.Tensor): tf.Tensor } {
  const [Gelu] = tf.serialization.SerializationMap.getMap().classNameMap['gelu'] as unknown as [new () => { apply(x: tf.Tensor): tf.Tensor }];
  return new Gelu();
}

/** Values over GELU's range: uniform in [-8, 8], tiny ones (subnormal included), and the edges. */
function inputs(count: number): Float32Array {
  const pick = generator(161803);
  const values = Array.from({ length: count }, (_, i) => (i % 5 === 4 ? (pick(2) ? 1 : -1) * Math.exp(-pick(100000) / 1000) : (pick(1600001) - 800000) / 100000));
  return Float32Array.from([...values, 0, -0, 1e-40, -1e-40, 3.92, 5.7, -5.7, 100, -100, 3e38, -3e38, Infinity, -Infinity, NaN]);
}

/** Names of the kernels `f` runs. */
async function kernelsOf(f: () => tf.Tensor): Promise<string[]> {
  const info = await tf.profile(() => f());
  return info.kernels.map((k) => k.name);
}

describe('wasm: exact GELU and its gradient in one kernel each (src/backends/wasm-simd/gelu.ts, kernel-fixes/heap-gelu.ts, layers/fixes/single-op-gelu.ts)', function () {
  onWasm({ activate: true });

  it('the SIMD kernel equals tfjs-layers\' five operations on wasm bit for bit, edges included (±0, subnormals, ±Infinity, NaN), on every length and on threads', () => {
    const all = inputs(300_000);
    // 0 to 5 whole vectors and more: the kernel's steps of three, then one at a time.
    for (const length of [1, 3, 4, 7, 8, 12, 19, 20, 33, 4099, all.length]) {
      const xs = all.slice(all.length - length);
      const x = tf.tensor1d(xs);
      const before = simdGeluCalls.count;
      const fused = tf.engine().runKernel(GELU_KERNEL, { x }) as tf.Tensor;
      assert.equal(simdGeluCalls.count - before, 1, 'ran in the SIMD kernel');
      const composed = composedGelu(x);
      const got = fused.dataSync();
      sameBits(got, composed.dataSync(), `length ${length}`);
      xs.forEach((value, i) => assert.ok(Object.is(got[i], geluFloat32(value)) || (Number.isNaN(value) && Number.isNaN(got[i]!)), `gelu(${value})`));
      tf.dispose([x, fused, composed]);
    }
  });

  it('the gelu activation runs KerasBridgeGelu alone outside a tape, the same values as tfjs-layers\' own', async () => {
    const x = tf.tensor3d(inputs(4 * 128 - 14).slice(0, 4 * 128), [1, 4, 128]);
    const gelu = geluActivation();
    const kernels = await kernelsOf(() => gelu.apply(x));
    assert.deepEqual(kernels, [GELU_KERNEL]);
    const [fused, composed] = [gelu.apply(x), composedGelu(x)];
    sameBits(fused.dataSync(), composed.dataSync(), 'activation');
    tf.dispose([x, fused, composed]);
  });

  it('the SIMD gradient kernel equals tfjs-core\'s gradient through the five operations bit for bit, on every length and on threads', () => {
    const all = inputs(300_000);
    const pick = generator(314159);
    const gradients = Float32Array.from(all, (_, i) => (i % 7 === 6 ? 0 : (pick(2000001) - 1000000) / 250000));
    for (const length of [1, 3, 4, 7, 33, 4099, all.length]) {
      const [xs, dys] = [all.slice(all.length - length), gradients.slice(gradients.length - length)];
      const [x, dy] = [tf.tensor1d(xs), tf.tensor1d(dys)];
      const before = simdGeluGradientCalls.count;
      const fused = tf.engine().runKernel(GELU_GRADIENT_KERNEL, { x, dy }) as tf.Tensor;
      assert.equal(simdGeluGradientCalls.count - before, 1, 'ran in the SIMD kernel');
      const composed = tf.grad((v: tf.Tensor) => composedGelu(v))(x, dy);
      const got = fused.dataSync();
      sameBits(got, composed.dataSync(), `length ${length}`);
      sameBits(got, xs.map((value, i) => geluGradientFloat32(value, dys[i]!)), `length ${length}, geluGradientFloat32`);
      tf.dispose([x, dy, fused, composed]);
    }
  });

  it('under a gradient tape the activation runs KerasBridgeGelu forward and KerasBridgeGeluGradient backward, tfjs-core\'s gradient bit for bit', async () => {
    const x = tf.tensor2d(inputs(62).slice(0, 64), [8, 8]);
    const weights = tf.tensor2d(inputs(64).slice(0, 64).map((v) => (Number.isFinite(v) ? v / 4 : 0.5)), [8, 8]);
    const gelu = geluActivation();
    const before = simdGeluGradientCalls.count;
    const [got, expected] = [
      tf.grad((v: tf.Tensor) => tf.mul(gelu.apply(v), weights).sum())(x),
      tf.grad((v: tf.Tensor) => tf.mul(composedGelu(v), weights).sum())(x),
    ];
    assert.equal(simdGeluGradientCalls.count - before, 1, 'the gradient ran in the SIMD kernel');
    sameBits(got.dataSync(), expected.dataSync(), 'gradient');
    const kernels = await kernelsOf(() => tf.grad((v: tf.Tensor) => gelu.apply(v).sum())(x));
    assert.ok(kernels.includes(GELU_KERNEL) && kernels.includes(GELU_GRADIENT_KERNEL) && !kernels.includes('Erf') && !kernels.includes('Exp'), kernels.join(', '));
    tf.dispose([x, weights, got, expected]);
  });

  it('a second derivative through the activation is tfjs-core\'s through the composition (its backward pass recorded in operations that have gradients)', () => {
    const x = tf.tensor1d([-3, -1.5, -0.25, 0, 0.5, 1, 2.5, 4]);
    const gelu = geluActivation();
    const [got, expected] = [
      tf.grad((v: tf.Tensor) => tf.grad((w: tf.Tensor) => gelu.apply(w).sum())(v).sum())(x),
      tf.grad((v: tf.Tensor) => tf.grad((w: tf.Tensor) => composedGelu(w).sum())(v).sum())(x),
    ];
    sameBits(got.dataSync(), expected.dataSync(), 'second derivative');
    tf.dispose([x, got, expected]);
  });

  it('a Dense layer with activation gelu predicts as with tfjs-layers\' activation, in one kernel fewer than five', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 64, activation: 'gelu', inputShape: [32] })] });
    const x = tf.tensor2d(inputs(16 * 32 - 14).slice(0, 16 * 32), [16, 32]);
    const kernels = await kernelsOf(() => model.predict(x) as tf.Tensor);
    assert.ok(kernels.includes(GELU_KERNEL) && !kernels.includes('Erf') && !kernels.includes('RealDiv'), kernels.join(', '));
    const predicted = model.predict(x) as tf.Tensor;
    const expected = tf.tidy(() => composedGelu(tf.add(tf.matMul(x, model.getWeights()[0]!), model.getWeights()[1]!)));
    sameBits(predicted.dataSync(), expected.dataSync(), 'Dense');
    tf.dispose([x, predicted, expected]);
    model.dispose();
  });

  it('where the SIMD kernel cannot reach the heap, KerasBridgeGelu composes the backend\'s five kernels, the same values', async () => {
    const previous = activeBackendName();
    await useBackend('cpu');
    try {
      const x = tf.tensor1d(inputs(100));
      const backend = tf.backend();
      const before = simdGeluCalls.count;
      const info = heapGelu({ inputs: { x }, backend, attrs: {} })!;
      assert.equal(simdGeluCalls.count, before, 'not the SIMD kernel');
      const out = tf.engine().makeTensorFromTensorInfo(info);
      const composed = composedGelu(x);
      sameBits(out.dataSync(), composed.dataSync(), 'composed on cpu');
      tf.dispose([x, out, composed]);
    } finally {
      await useBackend(previous as BackendName);
    }
  });

  it('where the SIMD kernel cannot reach the heap, KerasBridgeGeluGradient composes the backend\'s kernels in tfjs-core\'s order, the same values', async () => {
    const previous = activeBackendName();
    await useBackend('cpu');
    try {
      const x = tf.tensor1d(inputs(100));
      const dy = tf.tensor1d(inputs(100).map((v, i) => (Number.isFinite(v) ? v / 3 : i)));
      const before = simdGeluGradientCalls.count;
      const info = heapGeluGradient({ inputs: { x, dy }, backend: tf.backend(), attrs: {} })!;
      assert.equal(simdGeluGradientCalls.count, before, 'not the SIMD kernel');
      const out = tf.engine().makeTensorFromTensorInfo(info);
      const composed = tf.grad((v: tf.Tensor) => composedGelu(v))(x, dy);
      sameBits(out.dataSync(), composed.dataSync(), 'composed on cpu');
      tf.dispose([x, dy, out, composed]);
    } finally {
      await useBackend(previous as BackendName);
    }
  });

  it('on a backend without KerasBridgeGelu (cpu) the activation is tfjs-layers\' own', async () => {
    const previous = activeBackendName();
    await useBackend('cpu');
    try {
      assert.equal(tf.getKernel(GELU_KERNEL, 'cpu'), undefined);
      const x = tf.tensor1d(inputs(50));
      const kernels = await kernelsOf(() => geluActivation().apply(x));
      assert.ok(kernels.includes('Erf') && kernels.includes('RealDiv'), kernels.join(', '));
      x.dispose();
    } finally {
      await useBackend(previous as BackendName);
    }
  });
});
