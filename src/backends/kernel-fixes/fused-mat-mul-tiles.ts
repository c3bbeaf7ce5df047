import type * as tf from '@tensorflow/tfjs';
import { batchMatMul, lastTwoSwapped, simdProductShape } from './batch-mat-mul-composed.js';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';

/** tfjs's fused activations as the backend's own kernels, applied to the product after its bias. */
const ACTIVATIONS: Readonly<Record<string, (x: tf.TensorInfo, r: KernelRunner, attrs: tf.NamedAttrMap, alpha: tf.TensorInfo | undefined) => tf.TensorInfo | undefined>> = {
  linear: (x) => x,
  relu: (x, r) => r.run('Relu', { x }),
  relu6: (x, r) => r.run('Relu6', { x }),
  elu: (x, r) => r.run('Elu', { x }),
  sigmoid: (x, r) => r.run('Sigmoid', { x }),
  leakyrelu: (x, r, attrs) => r.run('LeakyRelu', { x }, { alpha: attrs['leakyreluAlpha'] ?? 0.2 }),
  prelu: (x, r, _attrs, alpha) => (alpha ? r.run('Prelu', { x, alpha }) : undefined),
};

/**
 * tfjs-backend-wasm's _FusedMatMul of batched operands (a product, bias and activation per batch)
 * where keras-bridge's SIMD tiles take the product (batch-mat-mul-composed.ts): the product in
 * tiles, then the bias (a row broadcast: SIMD rows, heap-broadcast-binary.ts) and the activation
 * as the backend's kernels. tfjs-backend-wasm runs a batched product as one XNNPACK product per
 * batch, each packing its right operand anew (batch-mat-mul-composed.ts has the figures). The
 * bias comes after the product, as TensorFlow's BiasAdd comes after MatMul (XNNPACK starts its
 * sums from the bias). Anything else: undefined, and tfjs's kernel runs.
 */
export const fusedMatMul: ComposedCompute = (inputs, attrs, r) => {
  const { a, b, bias, preluActivationWeights } = inputs;
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const activation = ACTIVATIONS[String(attrs['activation'] ?? 'linear')];
  if (!activation || (attrs['activation'] === 'prelu' && !preluActivationWeights)) return undefined;
  if (bias && bias.dtype !== 'float32') return undefined;
  const transposeA = attrs['transposeA'] === true;
  const transposeB = attrs['transposeB'] === true;
  // Batched products only: one product's right operand is a weight, which XNNPACK's fused kernel
  // keeps packed and which the tiles leave to it (batch-mat-mul-composed.ts, productBySimd).
  // (One thread asked for: the shape of a batched product only.)
  if (!simdProductShape(lastTwoSwapped(a.shape, transposeA), lastTwoSwapped(b.shape, transposeB), 1)) return undefined;
  const product = batchMatMul({ a, b }, { transposeA, transposeB }, r);
  if (!product) return undefined;
  const biased = bias ? r.run('Add', { a: product, b: bias }) : product;
  return activation(biased, r, attrs, preluActivationWeights);
};
