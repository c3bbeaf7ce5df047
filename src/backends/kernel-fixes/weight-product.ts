import tf from '#tfjs';
import type { KernelRunner } from './composed-kernel.js';
import { float32Bits } from './conv-activations.js';
import { derivedTensorIfRepeated, seenBefore } from './derived-tensors.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';
import { batchedProduct, packedBytes, packRightOperand, type ProductEpilogue } from '../wasm-simd/product-tiles.js';
import type { WasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';

/**
 * Multiply-adds from which a product with a weight (a right operand that comes every pass: a Dense
 * kernel) runs in the tiles rather than in XNNPACK's operator, which keeps the weight packed too.
 * It was 2²⁵ while XNNPACK's pool threads spun 1,000,000 times after each of its operations and
 * held the core the tiles' helper needed (pool-spin.ts); 2²¹ is the smallest size measured since
 * (the Transformer block's [128, 256]·[256, 256] at 2²³ runs faster in the tiles; smaller ones
 * were not timed apart). Tests lower it to reach edges.
 */
export const weightProductFrom = { macs: 1 << 21 };

/**
 * Whether `b` is a weight: a right operand whose data came here before, recorded now (a gradient's
 * operand is new each pass).
 */
export function isWeight(b: tf.TensorInfo, k: number, n: number): boolean {
  return seenBefore(b, `product right operand ${k}x${n}`);
}

/** A product of rows with a weight, and what follows it in the same pass over each chunk's rows. */
export interface WeightProduct {
  /** [m, k] float32 rows, row-major (any shape of that size). */
  rows: tf.TensorInfo;
  /** [k, n] float32, row-major (a Dense kernel, a 1x1 filter's [1, 1, k, n]); n a multiple of 4. */
  weight: tf.TensorInfo;
  m: number;
  k: number;
  n: number;
  /** [n] float32 added to every row after the sums (TensorFlow's BiasAdd after its product). */
  bias?: tf.TensorInfo;
  /** The result clamped to [low, high] after the bias (relu: [0, ∞]); [-∞, ∞] for none. */
  clamp: [number, number];
  /** The output's shape (m · n elements). */
  outShape: number[];
}

/**
 * rows · weight (+ bias, clamped) in keras-bridge's SIMD tiles on the kernel threads, the weight's
 * 16-column panels kept while its data lives from its second use (derived-tensors.ts; a training
 * step's new weights are packed into scratch for their one use), each chunk adding the bias and
 * clamping the rows it has just written (wasm-simd/bias-clamp.ts). The sums run in depth order from
 * 0 as the tiles' own (fused where relaxed-simd.ts says so). The caller checks the shapes.
 */
export function weightProductInTiles(r: KernelRunner, kernels: WasmHeapKernels, p: WeightProduct): tf.TensorInfo {
  const wasm = r.backend as unknown as WasmHeapBackend;
  const panelFloats = packedBytes(1, p.k, p.n) / 4;
  const kept = panelFloats > 0 ? keptPanels(r, kernels, p.weight, p.k, p.n, panelFloats) : undefined;
  const scratch = panelFloats > 0 && !kept ? r.track(wasm.makeOutput([panelFloats], 'float32')) : undefined;
  // Offsets in the heap stay valid when making a tensor grows it; views do not.
  const out = r.track(wasm.makeOutput(p.outShape, 'float32'));
  const linear = p.clamp[0] === -Infinity && p.clamp[1] === Infinity;
  const zeros = p.bias || linear ? undefined : r.track(wasm.makeOutput([p.n], 'float32'));
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  if (zeros) kernels.float32Heap().fill(0, at(zeros) / 4, at(zeros) / 4 + p.n);
  const panels = kept ?? scratch;
  const c = at(out);
  const epilogueBias = p.bias ?? zeros;
  const rowBytes = 4 * p.n;
  const [low, high] = [float32Bits(p.clamp[0]), float32Bits(p.clamp[1])];
  const epilogue: ProductEpilogue | undefined = epilogueBias
    ? (_batches, [first, end], [firstColumn, endColumn]) => [
        // A chunk's rows, or its run of columns of each row.
        { fn: kernels.biasClampRowsIndex, args: [c + first * rowBytes + 4 * firstColumn, at(epilogueBias) + 4 * firstColumn, 4 * (endColumn - firstColumn), end - first, low, high, rowBytes] },
      ]
    : undefined;
  const product = { a: at(p.rows), b: at(p.weight), c, batches: 1, m: p.m, k: p.k, n: p.n, ...(panels ? { packed: at(panels), prepacked: kept !== undefined } : {}) };
  batchedProduct(kernels.threads(), kernels.productTiles, product, epilogue);
  return out;
}

/** The weight's [k, n] packed into the tiles' 16-column panels (`floats` of them), kept while its data lives, from its second use; undefined the first time. */
function keptPanels(r: KernelRunner, kernels: WasmHeapKernels, weight: tf.TensorInfo, k: number, n: number, floats: number): tf.TensorInfo | undefined {
  const wasm = r.backend as unknown as WasmHeapBackend;
  return derivedTensorIfRepeated(r.backend, r.backendName, weight, `product panels ${k}x${n}`, () => {
    const packed = wasm.makeOutput([floats], 'float32');
    const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
    packRightOperand(kernels.threads(), kernels.productTiles, { b: at(weight), batches: 1, m: 1, k, n }, at(packed));
    return packed;
  });
}
