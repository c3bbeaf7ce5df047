import type * as tf from '@tensorflow/tfjs';
import type { KernelRunner } from './composed-kernel.js';

/**
 * tfjs's fused activations for keras-bridge's own convolutions and products on wasm's heap
 * (Winograd, pointwise, a weight's product): those a clamp is, applied where the result is
 * written, as [low, high]; the others (AFTER) as the backend's kernels after the linear result.
 */
export const CLAMPS: Readonly<Record<string, [number, number]>> = {
  linear: [-Infinity, Infinity],
  relu: [0, Infinity],
  relu6: [0, 6],
};

export const AFTER: Readonly<Record<string, (x: tf.TensorInfo, r: KernelRunner, attrs: tf.NamedAttrMap, alpha: tf.TensorInfo | undefined) => tf.TensorInfo | undefined>> = {
  elu: (x, r) => r.run('Elu', { x }),
  sigmoid: (x, r) => r.run('Sigmoid', { x }),
  leakyrelu: (x, r, attrs) => r.run('LeakyRelu', { x }, { alpha: attrs['leakyreluAlpha'] ?? 0.2 }),
  prelu: (x, r, _attrs, alpha) => (alpha ? r.run('Prelu', { x, alpha }) : undefined),
};

/**
 * The clamp a convolution's fused activation takes where its result is written: the activation's
 * own, or none ([-∞, ∞]) for one that runs after (AFTER); undefined for an activation neither
 * knows, or prelu without its weights.
 */
export function activationClamp(attrs: tf.NamedAttrMap, preluActivationWeights: tf.TensorInfo | undefined): [number, number] | undefined {
  const name = String(attrs['activation'] ?? 'linear');
  if (name === 'prelu' && !preluActivationWeights) return undefined;
  return CLAMPS[name] ?? (AFTER[name] ? CLAMPS['linear'] : undefined);
}

/** The activation that runs after the clamped result (elu, sigmoid, leakyrelu, prelu), or `x` itself. */
export function activationAfter(x: tf.TensorInfo, r: KernelRunner, attrs: tf.NamedAttrMap, preluActivationWeights: tf.TensorInfo | undefined): tf.TensorInfo | undefined {
  const after = AFTER[String(attrs['activation'] ?? 'linear')];
  return after ? after(x, r, attrs, preluActivationWeights) : x;
}

/** A float32's bits as an i32, for a kernel argument. */
export function float32Bits(value: number): number {
  return new Int32Array(new Float32Array([value]).buffer)[0]!;
}
