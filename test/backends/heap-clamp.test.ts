import assert from 'node:assert/strict';
import tf from '#tfjs';
import { simdClampCalls } from '../../src/backends/kernel-fixes/heap-clamp.js';
import { generator } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

/** Values either side of 0, with the edges: ±0, 6, ±Infinity, NaN, and lengths not in whole vectors. */
function inputs(length: number, seed: number): Float32Array {
  const pick = generator(seed);
  const edges = [0, -0, 6, -6, Infinity, -Infinity, NaN, 1e-45, -1e-45, 5.999999];
  return Float32Array.from({ length }, (_, i) => (i % 11 === 10 ? edges[pick(edges.length)]! : (pick(20001) - 10000) / 1000));
}

/** max(x, low) then min(·, high) as WebAssembly computes them: NaN stays NaN, and max(-0, 0) is 0. */
function clamp(x: number, low: number, high: number): number {
  if (Number.isNaN(x)) return NaN;
  const raised = x > low || (x === low && !Object.is(x, -0)) ? x : low;
  return raised < high ? raised : high;
}

describe('wasm: Relu as a SIMD clamp on the heap (src/backends/kernel-fixes/heap-clamp.ts)', function () {
  onWasm({ activate: true });

  for (const [name, op, high] of [['Relu', tf.relu, Infinity]] as const) {
    it(`${name}: every length from 0 to 41 and 300,000 values (cut among the kernel threads) are the clamp to [0, ${high}], NaN kept`, () => {
      const tensors = tf.memory().numTensors;
      for (const length of [...Array.from({ length: 42 }, (_, i) => i), 300_000]) {
        const x = inputs(length, length + 1);
        const before = simdClampCalls.count;
        const got = tf.tidy(() => op(tf.tensor1d(x)).dataSync() as Float32Array);
        assert.equal(simdClampCalls.count - before, 1, `length ${length} in the kernel`);
        for (let i = 0; i < length; i++) assert.ok(Object.is(got[i], clamp(x[i]!, 0, high)), `length ${length} at ${i}: ${name}(${x[i]}) = ${got[i]}`);
      }
      assert.equal(tf.memory().numTensors, tensors);
    });
  }

  it('agrees with cpu wherever cpu\'s result is not a signed zero, and gradients still flow', async () => {
    const x = inputs(1000, 77);
    const onWasm = tf.tidy(() => [tf.relu(tf.tensor1d(x)).dataSync(), tf.grad((t) => tf.sum(tf.mul(tf.relu(t), t)))(tf.tensor1d(x)).dataSync()]);
    await tf.setBackend('cpu');
    const onCpu = tf.tidy(() => [tf.relu(tf.tensor1d(x)).dataSync(), tf.grad((t) => tf.sum(tf.mul(tf.relu(t), t)))(tf.tensor1d(x)).dataSync()]);
    await tf.setBackend('wasm');
    onCpu.forEach((expected, k) => {
      for (let i = 0; i < expected.length; i++) {
        if (expected[i] === 0) assert.equal(onWasm[k]![i], 0, `output ${k} at ${i}`);
        else assert.ok(Object.is(onWasm[k]![i], expected[i]), `output ${k} at ${i}: ${onWasm[k]![i]} against cpu's ${expected[i]}`);
      }
    });
  });

  it('leaves other dtypes to tfjs\'s kernel', () => {
    const before = simdClampCalls.count;
    assert.deepEqual([...tf.tidy(() => tf.relu(tf.tensor1d([-2, 3, 0], 'int32')).dataSync())], [0, 3, 0]);
    assert.equal(simdClampCalls.count, before);
  });
});
