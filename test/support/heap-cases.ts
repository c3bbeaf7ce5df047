import * as tf from '@tensorflow/tfjs';

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
