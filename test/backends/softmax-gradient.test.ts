import assert from 'node:assert/strict';
import tf from '#tfjs';
import '../../src/runtime.js';
import { activeBackendName, useBackend, type BackendName } from '../../src/backends/index.js';
import { heapSoftmaxGradient, simdSoftmaxGradientCalls, SOFTMAX_GRADIENT_KERNEL } from '../../src/backends/kernel-fixes/heap-softmax-gradient.js';
import { generator } from '../support/heap-cases.js';
import { sameBits } from '../support/same-bits.js';
import { onWasm } from '../support/backend-suite.js';

/** tfjs-core's gradient of softmax over the last axis (Softmax_grad.js): dy·y − sum(dy·y)·y. */
function composedGradient(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const products = tf.mul(dy, y);
    return tf.sub(products, tf.mul(tf.sum(products, [-1], true), y));
  });
}

/** Values in [-scale, scale], different in every position. */
function values(shape: number[], seed: number, scale = 4): tf.Tensor {
  const pick = generator(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => ((pick(200001) - 100000) / 100000) * scale), shape);
}

describe('wasm: softmax\'s gradient in one kernel (src/backends/wasm-simd/softmax-gradient.ts, kernel-fixes/heap-softmax-gradient.ts, softmax-gradient.ts)', function () {
  onWasm({ activate: true });

  it('the SIMD kernel equals tfjs-core\'s four operations bit for bit: rows in groups of four and a tail, on threads, and a row of a multiple of 4 columns', () => {
    // [7, 12]: one group and a tail of 3; [2, 3]: rows only in the tail; [8, 4, 128, 128]: an attention's, cut among threads.
    for (const [i, shape] of [[7, 12], [2, 4], [1, 4], [4, 128], [8, 4, 128, 128], [3, 5, 20]].entries()) {
      const [dy, logits] = [values(shape, 10 + i), values(shape, 20 + i, 8)];
      const y = tf.softmax(logits);
      const before = simdSoftmaxGradientCalls.count;
      const fused = tf.engine().runKernel(SOFTMAX_GRADIENT_KERNEL, { dy, y }) as tf.Tensor;
      assert.equal(simdSoftmaxGradientCalls.count - before, 1, `${shape}: the SIMD kernel`);
      const composed = composedGradient(dy, y);
      sameBits(fused.dataSync(), composed.dataSync(), JSON.stringify(shape));
      tf.dispose([dy, logits, y, fused, composed]);
    }
  });

  it('rows of a length not a multiple of 4 take the backend\'s four kernels, the same values', () => {
    const [dy, y] = [values([6, 7], 3), tf.softmax(values([6, 7], 4))];
    const before = simdSoftmaxGradientCalls.count;
    const out = tf.engine().makeTensorFromTensorInfo(heapSoftmaxGradient({ inputs: { dy, y }, backend: tf.backend(), attrs: {} })!);
    assert.equal(simdSoftmaxGradientCalls.count, before);
    const composed = composedGradient(dy, y);
    sameBits(out.dataSync(), composed.dataSync(), '[6, 7]');
    tf.dispose([dy, y, out, composed]);
  });

  it('tf.grad through tf.softmax runs the kernel, tfjs-core\'s gradient bit for bit', async () => {
    const [x, w] = [values([8, 4, 32], 5, 6), values([8, 4, 32], 6)];
    const loss = (v: tf.Tensor) => tf.sum(tf.mul(tf.softmax(v), w));
    const got = tf.grad(loss)(x);
    const expected = tf.tidy(() => composedGradient(w, tf.softmax(x)));
    sameBits(got.dataSync(), expected.dataSync(), 'gradient');
    const kernels = (await tf.profile(() => tf.grad(loss)(x))).kernels.map((k) => k.name);
    assert.ok(kernels.includes(SOFTMAX_GRADIENT_KERNEL) && !kernels.includes('Sub'), kernels.join(', '));
    tf.dispose([x, w, got, expected]);
  });

  it('on cpu (no such kernel) softmax\'s gradient is tfjs-core\'s', async () => {
    const previous = activeBackendName();
    await useBackend('cpu');
    try {
      assert.equal(tf.getKernel(SOFTMAX_GRADIENT_KERNEL, 'cpu'), undefined);
      const [x, w] = [values([3, 10], 7), values([3, 10], 8)];
      const got = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.softmax(v), w)))(x);
      const expected = tf.tidy(() => composedGradient(w, tf.softmax(x)));
      sameBits(got.dataSync(), expected.dataSync(), 'cpu');
      tf.dispose([x, w, got, expected]);
    } finally {
      await useBackend(previous as BackendName);
    }
  });
});
