import assert from 'node:assert/strict';
import tf from '#tfjs';
import { activeBackendName, useBackend } from '../../src/backends/index.js';
import { derivedTensorCount } from '../../src/backends/kernel-fixes/derived-tensors.js';
import { onWasm } from '../support/backend-suite.js';

/** Deterministic values in (-1, 1), different for each seed. */
function values(shape: number[], seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 7919 + i * 12.9898)), shape);
}

/** dx of a 3x3 'same' convolution (the Conv2DBackpropInput kernel), and of a depthwise one. */
const inputGradient = (dy: tf.Tensor, filter: tf.Tensor) => tf.conv2dTranspose(dy as tf.Tensor4D, filter as tf.Tensor4D, [1, ...dy.shape.slice(1, 3), filter.shape[2]!] as [number, number, number, number], 1, 'same');
const depthwiseInputGradient = (dy: tf.Tensor, filter: tf.Tensor) =>
  tf.grad((x: tf.Tensor) => tf.mul(tf.depthwiseConv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), dy))(tf.zeros(dy.shape));

async function onCpu(f: () => tf.Tensor): Promise<Float32Array> {
  const backend = activeBackendName();
  await useBackend('cpu');
  const out = f();
  const data = out.dataSync() as Float32Array;
  out.dispose();
  await useBackend(backend as 'wasm');
  return data;
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  return a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i]!)), 0);
}

// conv-backprop-composed.ts keeps each kernel it turned for an input gradient while the kernel's
// data lives (derived-tensors.ts): these pin down that it is used, right, and freed.
describe('wasm: kernels turned once per weights, freed with them (src/backends/kernel-fixes/derived-tensors.ts)', function () {
  onWasm({ activate: true });

  it('a large kernel over a small dy: products the first time, the kept turned kernel from the second, equal results', async function () {
    const backend = tf.backend();
    // co = 24 ≥ 2 · 3·3 pixels: col2im products unless the kernel comes again.
    const dy = values([1, 3, 3, 24], 1);
    const filter = values([3, 3, 16, 24], 2);
    const expected = await onCpu(() => inputGradient(dy, filter));
    const before = derivedTensorCount(backend);
    const results: Float32Array[] = [];
    const counts: number[] = [];
    for (let pass = 0; pass < 3; pass++) {
      const dx = inputGradient(dy, filter);
      results.push(dx.dataSync() as Float32Array);
      dx.dispose();
      counts.push(derivedTensorCount(backend) - before);
    }
    assert.deepEqual(counts, [0, 1, 1], 'turned on the second pass, kept for the third');
    for (const result of results) assert.ok(maxAbsDifference(result, expected) <= 1e-5);
    filter.dispose();
    assert.equal(derivedTensorCount(backend), before, 'the turned kernel goes with the kernel');
    dy.dispose();
  });

  it('a variable given new values is turned again: no stale kernel, the old one freed', async function () {
    const backend = tf.backend();
    const dy = values([1, 6, 6, 4], 3);
    const weights = tf.variable(values([3, 3, 5, 4], 4));
    const before = derivedTensorCount(backend);
    const dataBefore = tf.memory().numDataBuffers;
    for (const seed of [5, 6, 7]) {
      const next = values([3, 3, 5, 4], seed);
      weights.assign(next);
      next.dispose();
      const expected = await onCpu(() => inputGradient(dy, weights));
      const dx = inputGradient(dy, weights);
      assert.ok(maxAbsDifference(dx.dataSync() as Float32Array, expected) <= 1e-5, `weights of seed ${seed}`);
      dx.dispose();
      assert.equal(derivedTensorCount(backend) - before, 1, 'one turned kernel, for the current values');
    }
    assert.equal(tf.memory().numDataBuffers, dataBefore + 1, 'only the turned kernel stays');
    weights.dispose();
    assert.equal(derivedTensorCount(backend), before);
    dy.dispose();
  });

  it('depthwise: the kept turned kernel gives the same input gradient as cpu', async function () {
    const backend = tf.backend();
    const dy = values([2, 5, 5, 3], 8);
    const filter = values([3, 3, 3, 1], 9);
    const expected = await onCpu(() => depthwiseInputGradient(dy, filter));
    const before = derivedTensorCount(backend);
    for (let pass = 0; pass < 2; pass++) {
      const dx = depthwiseInputGradient(dy, filter);
      assert.ok(maxAbsDifference(dx.dataSync() as Float32Array, expected) <= 1e-5);
      dx.dispose();
    }
    assert.equal(derivedTensorCount(backend) - before, 1);
    filter.dispose();
    assert.equal(derivedTensorCount(backend), before);
    dy.dispose();
  });

  it('a weight transposed for dy·Wᵀ (a Dense layer\'s input gradient): kept from its second use, equal to cpu, freed with it', async function () {
    const backend = tf.backend();
    const dy = values([2, 40], 10);
    const weights = values([24, 40], 11);
    const expected = await onCpu(() => tf.matMul(dy, weights, false, true));
    const before = derivedTensorCount(backend);
    const counts: number[] = [];
    for (let pass = 0; pass < 3; pass++) {
      const dx = tf.matMul(dy, weights, false, true);
      assert.ok(maxAbsDifference(dx.dataSync() as Float32Array, expected) <= 1e-5, `pass ${pass}`);
      dx.dispose();
      counts.push(derivedTensorCount(backend) - before);
    }
    assert.deepEqual(counts, [0, 1, 1], 'transposed on the second pass, kept for the third');
    weights.dispose();
    assert.equal(derivedTensorCount(backend), before, 'the transposed weight goes with the weight');
    dy.dispose();
  });
});
