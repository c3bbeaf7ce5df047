import tf from '#tfjs';

/** Deterministic values in (-scale, scale), different for each seed: a tensor of `shape`. */
export function values(shape: number[], seed: number, scale = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => scale * Math.sin(seed * 7919 + i * 12.9898)), shape);
}
