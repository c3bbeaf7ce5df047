import type * as tf from '@tensorflow/tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import { derivedTensorIfRepeated } from './derived-tensors.js';
import { isWeight, weightProductFrom, weightProductInTiles } from './weight-product.js';
import { batchedProduct, packedBytes, PARALLEL_FROM_MACS, type BatchedProduct } from '../wasm-simd/product-tiles.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/**
 * Multiply-adds per batch from which one product per batch beats tfjs-backend-wasm's batched loops
 * (below it, the slices and the concatenation cost more than they save: [4, 8, 8]·[4, 8, 8] took
 * 0.05 ms split against 0.01 ms batched).
 */
const SPLIT_FROM_MACS = 16_384;

/**
 * tfjs-backend-wasm's BatchMatMul, reworked where it is slow (docs/wasm-kernels.md):
 *
 * - A transposed operand becomes an explicit Transpose, then a plain product (a right operand that
 *   comes again, a weight, keeps its transpose: derived-tensors.ts). The kernel reads a
 *   transposed operand in place, against the grain: 83 ms against 2.6 ms untransposed for
 *   [128x256]ᵀ·[128x1024], 24 ms for the transposed right operand, while the Transpose costs under
 *   1 ms. Every matMul gradient takes one (dW = xᵀ·dy, dx = dy·Wᵀ).
 * - The plain product runs in keras-bridge's SIMD tiles where they take it (productBySimd: every
 *   batched product; one product of a new right operand where helper threads run), else:
 * - aᵀ·b with b the wider becomes (bᵀ·a)ᵀ (turnedProduct): the narrower matrix on the right.
 * - Without the tiles (no access to the heap), more than one batch becomes one product per batch.
 *   With one batch the kernel runs XNNPACK's product; with more, loops of its own: 128 products of
 *   [128, 64]·[64, 128] took 154 ms batched, 28 ms as slices, 128 single products and a Concat (4
 *   of them, a Transformer's heads at batch 1: 4.7 against 0.9 ms). Only where both operands have
 *   the same batch axes.
 *
 * Anything else: undefined, and tfjs's kernel runs as before.
 */
export const batchMatMul: ComposedCompute = (inputs, attrs, r) => {
  let a = inputs['a']!;
  let b = inputs['b']!;
  const transposeA = attrs['transposeA'] === true;
  const transposeB = attrs['transposeB'] === true;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const swapLastTwo = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  // aᵀ·b where the tiles take a·b with a transposed (a gradient's xᵀ·dy): XNNPACK, turned or not,
  // packs the new right operand on every call ([784, 32]ᵀ·[784, 192] 1.34 ms turned, 0.35 ms a
  // transposed and tiled; [4096, 256]ᵀ·[4096, 1024] 44.7 and 38.5 ms).
  if (transposeA && !transposeB) {
    const narrower = narrowerTransposedInTiles(a, b, r);
    if (narrower) return narrower;
  }
  if (transposeA && !transposeB && !simdProductShape(lastTwoSwapped(a.shape, true), b.shape, wasmHeapKernels(r.backend)?.threads().count ?? 1)) {
    const turned = turnedProduct(a, b, r);
    if (turned) return turned;
  }
  if (transposeA) a = r.transpose(a, swapLastTwo(a.shape.length));
  if (transposeB) {
    // A weight transposed for dx = dy·Wᵀ comes every step: kept while W's data lives, so that
    // XNNPACK's operator, packed for it, is kept too (MobileNetV2's classifier at batch 1,
    // [1,1000]·[1280,1000]ᵀ: 22.9 ms a call with a new transpose, 0.2 ms with the kept one).
    const rank = b.shape.length;
    const source = b;
    b = derivedTensorIfRepeated(r.backend, r.backendName, source, `last two axes swapped ${source.shape}`, (d) => d.transpose(source, swapLastTwo(rank))) ?? r.transpose(b, swapLastTwo(rank));
  }
  const simd = productBySimd(a, b, r);
  if (simd) return simd;
  const split = perBatch(a, b, r);
  if (split) return split;
  if (!transposeA && !transposeB) return undefined;
  return r.original({ a, b }, { ...attrs, transposeA: false, transposeB: false });
};

/**
 * aᵀ·b of one batch ([K, M]ᵀ·[K, N], a weight's gradient xᵀ·dy) where N > M, as (bᵀ·a)ᵀ: XNNPACK
 * packs the right operand of a product anew for each new tensor (a gradient's dy is new each step),
 * and its product is much slower with the wider matrix on the right: [16, 100352]·[100352, 96]
 * took 77 ms, [96, 100352]·[100352, 16] 7.4 ms (a 1x1 convolution's weight gradient, MobileNetV2 at
 * batch 8). Either way one operand is transposed; here b, then the small [N, M] result.
 */
function turnedProduct(a: tf.TensorInfo, b: tf.TensorInfo, r: KernelRunner): tf.TensorInfo | undefined {
  const [k, m] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const batches = a.shape.slice(0, -2).reduce((p, d) => p * d, 1) * b.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  if (batches !== 1 || n <= m || b.shape[b.shape.length - 2] !== k) return undefined;
  const bTurned = r.transpose(r.reshape(b, [k, n]), [1, 0]);
  const product = r.original({ a: r.reshape(bTurned, [1, n, k]), b: r.reshape(a, [1, k, m]) }, { transposeA: false, transposeB: false });
  const rankOut = Math.max(a.shape.length, b.shape.length);
  return r.reshape(r.transpose(r.reshape(product, [n, m]), [1, 0]), [...Array.from({ length: rankOut - 2 }, () => 1), m, n]);
}

/** How many aᵀ·b products ran as (bᵀ·a)ᵀ in the tiles (tests check the path a case took). */
export const narrowerTransposedCalls = { count: 0 };

/**
 * aᵀ·b of one batch ([K, M]ᵀ·[K, N]: a 1x1 convolution's filter gradient xᵀ·dy, K its pixels)
 * in the tiles as (bᵀ·a)ᵀ where b is the narrower: transposing b and the small [N, M] result moves
 * K·N + N·M floats where transposing a moves K·M. Each element is the same sum in the same depth
 * order (Σ_k a[k, m]·b[k, n], the tiles' depth blocks alike), so the same values. ResNet50 at batch
 * 32, [100352, 256]ᵀ·[100352, 64] (a 1x1 convolution from 256 channels to 64): the transposed
 * x alone took 80 ms of an 89 ms gradient. Undefined where b is not the narrower, or the tiles do
 * not take the turned product.
 */
function narrowerTransposedInTiles(a: tf.TensorInfo, b: tf.TensorInfo, r: KernelRunner): tf.TensorInfo | undefined {
  const [k, m] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const batches = a.shape.slice(0, -2).reduce((p, d) => p * d, 1) * b.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  if (batches !== 1 || b.shape[b.shape.length - 2] !== k || k * n + n * m >= k * m) return undefined;
  const threads = wasmHeapKernels(r.backend)?.threads().count ?? 1;
  if (!simdProductShape([1, n, k], [1, k, m], threads)) return undefined;
  const bTurned = r.reshape(r.transpose(r.reshape(b, [k, n]), [1, 0]), [1, n, k]);
  const product = productBySimd(bTurned, r.reshape(a, [1, k, m]), r);
  if (!product) return undefined;
  narrowerTransposedCalls.count++;
  const rankOut = Math.max(a.shape.length, b.shape.length);
  return r.reshape(r.transpose(r.reshape(product, [n, m]), [1, 0]), [...Array.from({ length: rankOut - 2 }, () => 1), m, n]);
}

/** How many products ran in keras-bridge's SIMD tiles (tests check the path a case took). */
export const simdProductCalls = { count: 0 };

/** A shape with its last two axes swapped where `swap` is set (a transposed operand's plain shape). */
export function lastTwoSwapped(shape: readonly number[], swap: boolean): number[] {
  return swap ? [...shape.slice(0, -2), shape[shape.length - 1]!, shape[shape.length - 2]!] : [...shape];
}

/**
 * The product keras-bridge's SIMD tiles compute for plain operands of these shapes (offsets left
 * 0), or undefined where they do not apply (productBySimd). One product (not batched) needs helper
 * threads (`threads` > 1): on one thread, XNNPACK's two beat the tiles (a browser page).
 */
export function simdProductShape(aShape: readonly number[], bShape: readonly number[], threads: number): BatchedProduct | undefined {
  const [m, k] = aShape.slice(-2) as [number, number];
  const n = bShape[bShape.length - 1]!;
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const batches = batchA.reduce((p, d) => p * d, 1);
  const sameBatchShape = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
  const bUnbatched = batchB.every((d) => d === 1) && batchB.length <= batchA.length;
  if (n < 4 || k < 1 || m < 1) return undefined;
  if (batches > 1 && sameBatchShape) return { a: 0, b: 0, c: 0, batches, m, k, n };
  if (threads > 1 && bUnbatched && batches * m >= PACK_FROM_ROWS && batches * m * k * n >= PARALLEL_FROM_MACS) return { a: 0, b: 0, c: 0, batches: 1, m: batches * m, k, n };
  return undefined;
}

/**
 * Rows from which a product's right operand is packed into panels first (packing reads b once;
 * below, that read costs more than the panels save).
 */
const PACK_FROM_ROWS = 16;

/**
 * a·b (neither transposed) in keras-bridge's wasm SIMD tiles (wasm-simd/product-tiles.ts) on the
 * kernel threads: batched alike (a Transformer block's attention products at batch 32, 128 of
 * [128, 128]·[128, 64], took 65 ms as 128 XNNPACK products, each packing its new right operand and
 * waking the thread pool; 4.2-5.2 ms in tiles on two threads), or b of one batch with at least
 * PACK_FROM_ROWS rows of a (a's batches are rows of one product; b packed into panels: [4096, 256]·
 * [256, 1024] 35-41 ms in XNNPACK, 30-31 ms in tiles). The sums run in depth order as XNNPACK's do:
 * the same values. Undefined where the tiles do not apply (n < 4, k = 0, batch axes broadcast
 * otherwise, a small single product) or the heap cannot be reached.
 */
function productBySimd(a: tf.TensorInfo, b: tf.TensorInfo, r: KernelRunner): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const kernels = wasmHeapKernels(r.backend);
  const product = kernels && simdProductShape(a.shape, b.shape, kernels.threads().count);
  if (!product) return undefined;
  const { k, n } = product;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const outShape = [...(batchA.length >= batchB.length ? batchA : batchB), a.shape[a.shape.length - 2]!, n];
  const wasm = r.backend as unknown as WasmHeapBackend;
  // One product with a right operand seen before (a weight): XNNPACK keeps its operator and
  // packing for it; from weightProductFrom's size the tiles keep the weight's panels too, and with
  // one instruction per multiply-add and XNNPACK's pool no longer spinning for milliseconds
  // (pool-spin.ts) they run a weight's [128, 256]·[256, 256] in 0.25-0.37 ms inside the Transformer
  // block, against XNNPACK's 0.53-0.56 (medians; whose pool thread now sleeps between its
  // operations). A new right operand (a gradient's) XNNPACK packs anew: 1.27 ms at m = 128, 20.8
  // ms at m = 4096 ([m, 256]·[256, 512]), against 1.05-1.18 and 16.5 in tiles.
  if (product.batches === 1 && isWeight(b, k, n)) {
    if (product.m * k * n < weightProductFrom.macs) return undefined;
    simdProductCalls.count++;
    return weightProductInTiles(r, kernels, { rows: a, weight: b, m: product.m, k, n, clamp: [-Infinity, Infinity], outShape });
  }
  const pack = product.m >= PACK_FROM_ROWS && n >= 16;
  // Made before the offsets are read: making either may grow the heap.
  const out = r.track(wasm.makeOutput(outShape, 'float32'));
  const scratch = pack ? wasm.makeOutput([packedBytes(product.batches, k, n) / 4], 'float32') : undefined;
  try {
    const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
    batchedProduct(kernels.threads(), kernels.productTiles, { ...product, a: at(a), b: at(b), c: at(out), ...(scratch ? { packed: at(scratch) } : {}) });
  } finally {
    if (scratch) wasm.disposeData(scratch.dataId);
  }
  simdProductCalls.count++;
  return out;
}

/** One product per batch of a·b (neither transposed), or undefined where that does not pay or the batch axes differ. */
function perBatch(a: tf.TensorInfo, b: tf.TensorInfo, r: KernelRunner): tf.TensorInfo | undefined {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batches = batchA.reduce((p, d) => p * d, 1);
  // Broadcast batch axes keep tfjs's kernel (tfjs-core's gradient refuses them anyway).
  const sameBatchShape = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
  if (batches < 2 || !sameBatchShape) return undefined;
  if (m * k * n < SPLIT_FROM_MACS || m * n === 0 || k === 0) return undefined;
  const flatA = r.reshape(a, [batches, m, k]);
  const flatB = r.reshape(b, [batches, k, n]);
  const products = Array.from({ length: batches }, (_, i) =>
    r.original({ a: r.slice(flatA, [i, 0, 0], [1, m, k]), b: r.slice(flatB, [i, 0, 0], [1, k, n]) }, { transposeA: false, transposeB: false }),
  );
  return r.reshape(r.run('Concat', products, { axis: 0 }), [...batchA, m, n]);
}
