import tf from '#tfjs';
import { batchMatMul, lastTwoSwapped, simdProductShape } from './batch-mat-mul-composed.js';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import { activationAfter, activationClamp, AFTER } from './conv-activations.js';
import { isWeight, weightProductFrom, weightProductInTiles } from './weight-product.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/** tfjs's fused activations as the backend's own kernels, applied to the product after its bias. */
const ACTIVATIONS: Readonly<Record<string, (x: tf.TensorInfo, r: KernelRunner, attrs: tf.NamedAttrMap, alpha: tf.TensorInfo | undefined) => tf.TensorInfo | undefined>> = {
  linear: (x) => x,
  relu: (x, r) => r.run('Relu', { x }),
  relu6: (x, r) => r.run('Relu6', { x }),
  ...AFTER,
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
export const fusedMatMul: ComposedCompute = (inputs, attrs, r) => fusedInTiles(inputs, attrs, r) ?? withBiasAsOneRow(inputs, attrs, r);

/**
 * A product with a bias whose data was written with more than one axis (einsum.ts passes an
 * attention projection's [heads, size] bias reshaped to one row), which tfjs-backend-wasm's
 * kernel refuses (it reads the rank from the data, which a reshape shares): with no activation,
 * the product and then the bias added, as Keras adds it (XNNPACK would start the sums from it);
 * with one, tfjs's kernel on a rank-1 copy of the bias. Undefined where the bias is one row
 * already: tfjs's kernel runs as it is.
 */
function withBiasAsOneRow(inputs: Parameters<ComposedCompute>[0], attrs: tf.NamedAttrMap, r: KernelRunner): tf.TensorInfo | undefined {
  const { a, b, bias } = inputs;
  const wasm = r.backend as unknown as WasmHeapBackend;
  if (!a || !b || !bias || bias.dtype !== 'float32' || typeof wasm.dataIdMap?.get !== 'function' || wasm.dataIdMap.get(bias.dataId)?.shape.length === 1) return undefined;
  if ((attrs['activation'] ?? 'linear') === 'linear') {
    const product = r.run('BatchMatMul', { a, b }, { transposeA: attrs['transposeA'] === true, transposeB: attrs['transposeB'] === true });
    return r.run('Add', { a: product, b: bias });
  }
  const size = tf.util.sizeFromShape(bias.shape);
  // Made before the views are taken: making it may grow the heap.
  const row = r.track(wasm.makeOutput([size], 'float32'));
  (wasm.typedArrayFromHeap(row) as Float32Array).set(wasm.typedArrayFromHeap(bias) as Float32Array);
  return r.original({ ...(inputs as Record<string, tf.TensorInfo>), bias: row }, attrs);
}

function fusedInTiles(inputs: Parameters<ComposedCompute>[0], attrs: tf.NamedAttrMap, r: KernelRunner): tf.TensorInfo | undefined {
  const { a, b, bias, preluActivationWeights } = inputs;
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const activation = ACTIVATIONS[String(attrs['activation'] ?? 'linear')];
  if (!activation || (attrs['activation'] === 'prelu' && !preluActivationWeights)) return undefined;
  if (bias && bias.dtype !== 'float32') return undefined;
  const transposeA = attrs['transposeA'] === true;
  const transposeB = attrs['transposeB'] === true;
  const withWeight = !transposeA && !transposeB ? denseInTiles(a, b, bias, attrs, preluActivationWeights, r) : undefined;
  if (withWeight) return withWeight;
  // Else batched products only: one product's right operand is a weight, which XNNPACK's fused
  // kernel keeps packed and which the tiles leave to it below weightProductFrom's size
  // (batch-mat-mul-composed.ts, productBySimd). (One thread asked for: the shape of a batched
  // product only.)
  if (!simdProductShape(lastTwoSwapped(a.shape, transposeA), lastTwoSwapped(b.shape, transposeB), 1)) return undefined;
  const product = batchMatMul({ a, b }, { transposeA, transposeB }, r);
  if (!product) return undefined;
  const biased = bias ? r.run('Add', { a: product, b: bias }) : product;
  return activation(biased, r, attrs, preluActivationWeights);
};

/**
 * A Dense layer's product: a's rows (its batch axes as rows) times a weight b of one batch, from
 * weightProductFrom's size, in the tiles with the weight's panels kept (weight-product.ts), the bias
 * and a relu or relu6 in each chunk's pass over its rows, other activations after. Undefined
 * elsewhere: a new right operand (a gradient's), a small product, a bias that is not one row of n,
 * output columns not in vectors of 4.
 */
function denseInTiles(a: tf.TensorInfo, b: tf.TensorInfo, bias: tf.TensorInfo | undefined, attrs: tf.NamedAttrMap, alpha: tf.TensorInfo | undefined, r: KernelRunner): tf.TensorInfo | undefined {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [kb, n] = b.shape.slice(-2) as [number, number];
  const rows = a.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  if (kb !== k || n % 4 !== 0 || n < 4 || k < 1 || m < 1 || b.shape.slice(0, -2).some((d) => d !== 1) || b.shape.length > a.shape.length) return undefined;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== n || bias.shape[bias.shape.length - 1] !== n)) return undefined;
  if (rows * k * n < weightProductFrom.macs) return undefined;
  const clamp = activationClamp(attrs, alpha);
  const kernels = clamp && wasmHeapKernels(r.backend);
  if (!clamp || !kernels || kernels.threads().count < 2 || !isWeight(b, k, n)) return undefined;
  const out = weightProductInTiles(r, kernels, { rows: a, weight: b, m: rows, k, n, ...(bias ? { bias } : {}), clamp, outShape: [...a.shape.slice(0, -1), n] });
  denseProductCalls.count++;
  return activationAfter(out, r, attrs, alpha);
}

/** How many fused products with a weight ran in the tiles (tests check the path a case took). */
export const denseProductCalls = { count: 0 };
