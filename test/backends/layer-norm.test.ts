import assert from 'node:assert/strict';
import tf from '#tfjs';
import '../../src/runtime.js';
import { heapLayerNorm, LAYER_NORM_KERNEL, LAYER_NORM_STATISTICS_KERNEL, simdLayerNormCalls, simdLayerNormGradientCalls } from '../../src/backends/kernel-fixes/heap-layer-norm.js';
import { normalizeAsKeras } from '../../src/layers/keras3/layer-normalization.js';
import { normalizeWithOperations } from '../../src/ops/layer-normalization.js';
import { generator } from '../support/heap-cases.js';
import { sameBits } from '../support/same-bits.js';
import { onWasm } from '../support/backend-suite.js';

/** normalizeAsKeras's operations over the last axis, written out: what the kernel must equal. */
function composed(x: tf.Tensor, epsilon: number, gamma?: tf.Tensor, beta?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const variance = tf.mean(tf.square(tf.sub(x, mean)), -1, true);
    let inv = tf.rsqrt(tf.add(variance, epsilon));
    if (gamma) inv = tf.mul(inv, gamma);
    let shift = tf.mul(tf.neg(mean), inv);
    if (beta) shift = tf.add(shift, beta);
    return tf.add(tf.mul(x, inv), shift);
  });
}

/** Values around an offset (a mean far from 0, as a residual stream's), different in every position. */
function values(shape: number[], seed: number, offset = 0, scale = 3): tf.Tensor {
  const pick = generator(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => offset + ((pick(200001) - 100000) / 100000) * scale), shape);
}

describe('wasm: layer normalization over the last axis in one kernel outside a tape (src/backends/wasm-simd/layer-norm.ts, kernel-fixes/heap-layer-norm.ts)', function () {
  onWasm({ activate: true });

  it('equals normalizeAsKeras\'s operations bit for bit: with and without gamma and beta, groups of four rows and a tail, on threads', () => {
    const shapes = [[4, 8], [7, 12], [2, 3, 20], [1, 4], [3, 16], [1, 128, 256], [32, 128, 256]];
    for (const [i, shape] of shapes.entries()) {
      const columns = shape[shape.length - 1]!;
      for (const [scale, center, epsilon] of [[true, true, 1e-6], [true, false, 1e-3], [false, true, 1e-5], [false, false, 0.1]] as const) {
        const x = values(shape, 100 + i, i % 2 === 0 ? 0 : 40);
        const gamma = scale ? values([columns], 200 + i, 1, 0.5) : undefined;
        const beta = center ? values([columns], 300 + i) : undefined;
        const before = simdLayerNormCalls.count;
        const fused = tf.engine().runKernel(LAYER_NORM_KERNEL, { x, ...(gamma ? { gamma } : {}), ...(beta ? { beta } : {}) }, { epsilon }) as tf.Tensor;
        assert.equal(simdLayerNormCalls.count - before, 1, 'ran in the SIMD kernel');
        const expected = composed(x, epsilon, gamma, beta);
        sameBits(fused.dataSync(), expected.dataSync(), `${JSON.stringify(shape)} gamma ${scale} beta ${center}`);
        tf.dispose([x, fused, expected, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])]);
      }
    }
  });

  it('rows of a length not a multiple of 4 take the backend\'s kernels, the same values', () => {
    const [x, gamma, beta] = [values([5, 7], 1, 3), values([7], 2), values([7], 3)];
    const before = simdLayerNormCalls.count;
    const out = tf.engine().makeTensorFromTensorInfo(heapLayerNorm({ inputs: { x, gamma, beta }, backend: tf.backend(), attrs: { epsilon: 1e-6 } })!);
    assert.equal(simdLayerNormCalls.count, before);
    const expected = composed(x, 1e-6, gamma, beta);
    sameBits(out.dataSync(), expected.dataSync(), '[5, 7]');
    tf.dispose([x, gamma, beta, out, expected]);
  });

  it('under a tape, with gamma, its gradients for x, gamma and beta are tfjs-core\'s through the operations, bit for bit: groups of four rows and a tail, on threads', () => {
    const shapes = [[4, 8], [7, 12], [2, 3, 20], [1, 128, 256], [32, 128, 256]];
    for (const [i, shape] of shapes.entries()) {
      const columns = shape[shape.length - 1]!;
      for (const [center, epsilon] of [[true, 1e-6], [false, 1e-3]] as const) {
        const x = values(shape, 400 + i, i % 2 === 0 ? 0 : 40);
        const gamma = values([columns], 500 + i, 1, 0.5);
        const beta = center ? values([columns], 600 + i) : undefined;
        const w = values(shape, 700 + i);
        const inputs = beta ? [x, gamma, beta] : [x, gamma];
        const loss = (normalize: typeof normalizeAsKeras) => (a: tf.Tensor, g: tf.Tensor, b?: tf.Tensor) => tf.sum(tf.mul(normalize(a, [a.rank - 1], epsilon, g, b ?? null), w));
        const before = simdLayerNormGradientCalls.count;
        const got = tf.grads(loss(normalizeAsKeras))(inputs);
        assert.equal(simdLayerNormGradientCalls.count - before, 1, 'the gradient ran in the kernels');
        const expected = tf.grads(loss(normalizeWithOperations))(inputs);
        got.forEach((g, k) => sameBits(g.dataSync(), expected[k]!.dataSync(), `${JSON.stringify(shape)} beta ${center}: gradient ${['x', 'gamma', 'beta'][k]}`));
        tf.dispose([x, gamma, w, ...(beta ? [beta] : []), ...got, ...expected]);
      }
    }
  });

  it('a second derivative through it is tfjs-core\'s through the operations', () => {
    const [x, gamma, beta, w] = [values([4, 16], 801, 2), values([16], 802, 1, 0.5), values([16], 803), values([4, 16], 804)];
    const second = (normalize: typeof normalizeAsKeras) =>
      tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(normalize(u, [1], 1e-5, gamma, beta), w)))(v), w)))(x);
    const [got, expected] = [second(normalizeAsKeras), second(normalizeWithOperations)];
    sameBits(got.dataSync(), expected.dataSync(), 'second derivative');
    tf.dispose([x, gamma, beta, w, got, expected]);
  });

  it('a LayerNormalization layer predicts in the one kernel, the same values; under a tape its gradient runs in the kernels', async () => {
    const layer = tf.layers.layerNormalization({ axis: -1, epsilon: 1e-6, inputShape: [16, 32] });
    const model = tf.sequential({ layers: [layer] });
    const [gamma, beta] = [values([32], 9, 1, 0.5), values([32], 10)];
    model.setWeights([gamma, beta]);
    const x = values([3, 16, 32], 11, 5);
    const kernels = (await tf.profile(() => model.predict(x) as tf.Tensor)).kernels.map((k) => k.name);
    assert.ok(kernels.includes(LAYER_NORM_KERNEL) && !kernels.includes('Mean'), kernels.join(', '));
    const predicted = model.predict(x) as tf.Tensor;
    const expected = composed(x, 1e-6, gamma, beta);
    sameBits(predicted.dataSync(), expected.dataSync(), 'predict');
    const loss = () => tf.sum(tf.mul(model.apply(x) as tf.Tensor, x)) as tf.Scalar;
    const taped = (await tf.profile(() => {
      const { value, grads } = tf.variableGrads(loss);
      tf.dispose(Object.values(grads));
      return value;
    })).kernels.map((k) => k.name);
    assert.ok(taped.includes(LAYER_NORM_KERNEL) && taped.includes(LAYER_NORM_STATISTICS_KERNEL) && !taped.includes('Mean'), taped.join(', '));
    tf.dispose([gamma, beta, x, predicted, expected]);
    model.dispose();
  });
});
