import assert from 'node:assert/strict';
import tf from '#tfjs';

/** A small deterministic generator (no Math.random: the same cases on every run). */
export function generator(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

/** The dtypes wasm's heap holds. */
export type HeapDtype = 'float32' | 'int32' | 'bool';

/** A tensor of `shape` whose every element differs from its neighbours (cycling for bool), for kernels that move values. */
export function distinctValues(shape: number[], dtype: HeapDtype): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, (_, i) => (dtype === 'bool' ? i % 3 === 0 : dtype === 'int32' ? i * 7 - 50 : i * 0.25 - 3));
  return tf.tensor(data as number[], shape, dtype);
}

/**
 * Runs `op` on each case's distinct values on cpu, then on wasm, and asserts that wasm gives the
 * shape `shapeOf(c)`, the case's dtype and cpu's values element for element, leaving no tensor behind.
 */
export async function assertWasmMatchesCpu<C extends { shape: number[]; dtype: HeapDtype }>(
  all: readonly C[],
  op: (x: tf.Tensor, c: C) => tf.Tensor,
  shapeOf: (c: C) => number[],
  useBackend: (name: 'cpu' | 'wasm') => Promise<unknown>,
): Promise<void> {
  await useBackend('cpu');
  const expected = all.map((c) => tf.tidy(() => Array.from(op(distinctValues(c.shape, c.dtype), c).dataSync())));
  await useBackend('wasm');
  const before = tf.memory().numTensors;
  all.forEach((c, k) => {
    const actual = tf.tidy(() => {
      const result = op(distinctValues(c.shape, c.dtype), c);
      assert.deepEqual(result.shape, shapeOf(c));
      assert.equal(result.dtype, c.dtype);
      return Array.from(result.dataSync());
    });
    assert.deepEqual(actual, expected[k], `case ${k}: ${JSON.stringify(c)}`);
  });
  assert.equal(tf.memory().numTensors, before);
}
