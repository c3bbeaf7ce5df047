import tf from '#tfjs';
import { asRowBroadcast, broadcastFunctionName, type BroadcastOperation } from '../wasm-simd/broadcast-binary.js';
import { wasmHeapKernels, type WasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { evenRuns } from '../wasm-simd/product-tiles.js';
import { elementwiseOnHeap, elementwiseParts, type ElementwiseKernel } from './heap-elementwise.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** How many broadcasts ran in wasm SIMD (tests check the path a case took). */
export const heapBroadcastCalls = { count: 0 };

/** How many of those were cut among the kernel threads (from PARALLEL_FROM_ELEMENTS elements, heap-elementwise.ts). */
export const heapBroadcastThreadedCalls = { count: 0 };

/** How many operations on operands of one shape ran in wasm SIMD (tests check the path a case took). */
export const heapSameShapeCalls = { count: 0 };

/**
 * Elements from which operands of one shape take the SIMD pass, where it is cut among the kernel
 * threads; below, XNNPACK's single-threaded pass is as fast (tests lower it to reach the edges).
 */
export const sameShapeFrom = { elements: 1 << 16 };

/** Each operation on one element pair, rounded to float32 once (the double result of two float32s rounds to the float32 one). */
const SCALAR: Record<BroadcastOperation, (a: number, b: number) => number> = {
  Add: (a, b) => Math.fround(a + b),
  Sub: (a, b) => Math.fround(a - b),
  Multiply: (a, b) => Math.fround(a * b),
  RealDiv: (a, b) => Math.fround(a / b),
};

/**
 * A float32 Add, Sub, Multiply or RealDiv on wasm where one operand is broadcast against the other
 * as a row vector (a bias), one value per row (a LayerNormalization's mean and variance, an
 * attention mask's column) or a scalar: keras-bridge's wasm SIMD kernel on the heap
 * (wasm-simd/broadcast-binary.ts). tfjs-backend-wasm 4.22 runs operands of equal shapes in
 * XNNPACK, about 1.3 ns an element here, but computes a source index per element for any
 * broadcast, 12-14 ns: a scalar times [1, 128, 1024] took 1.6 ms, [1, 128, 1] times
 * [1, 128, 256] 0.47 ms. From 65,536 elements the rows are cut among keras-bridge's kernel threads:
 * the Transformer block's bias adds and attention scale at batch 32 (one profiled pass, medians of
 * 5), [32, 128, 1024] + [1024] 3.72 → 2.90 ms, [32, 4, 128, 128] times a scalar 1.66 → 1.15 ms
 * (each near the memory's speed: 32 MB moved in 2.9 ms). Other broadcasts, rows that are not
 * whole vectors of 4: undefined, and tfjs's kernel runs.
 *
 * Operands of equal shapes (a ResNet's residual Add, a gradient's sum) from sameShapeFrom's size
 * run as one SIMD pass on the heap too, cut among keras-bridge's kernel threads (binary-vectors.ts
 * through heap-elementwise.ts): XNNPACK's took 26 ms for [32, 56, 56, 256] + [32, 56, 56, 256]
 * here, twice what the memory traffic costs (a 103 MB copy took 8.8 ms); this pass, 11.7 ms.
 */
export function heapBroadcastBinary(operation: BroadcastOperation): (args: KernelArgs, original: tf.KernelFunc | undefined) => tf.TensorInfo | undefined {
  const sameShape: ElementwiseKernel = { index: (kernels: WasmHeapKernels) => kernels.binaryVectorsIndex(operation), args: [], scalar: SCALAR[operation] as ElementwiseKernel['scalar'] };
  return ({ inputs, backend }) => {
    const { a, b } = inputs as Record<string, tf.TensorInfo>;
    if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
    if (a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) {
      if (tf.util.sizeFromShape(a.shape) < sameShapeFrom.elements) return undefined;
      const out = elementwiseOnHeap(backend as tf.KernelBackend, a, sameShape, [b]);
      if (out) heapSameShapeCalls.count++;
      return out;
    }
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = tf.util.sizeFromShape(outShape);
    if (size === 0) return undefined;
    const aFull = tf.util.sizeFromShape(a.shape) === size;
    const bFull = tf.util.sizeFromShape(b.shape) === size;
    if (aFull === bFull) return undefined;
    const [full, other] = aFull ? [a, b] : [b, a];
    const rows = asRowBroadcast(other.shape, outShape);
    if (!rows) return undefined;
    const kernels = wasmHeapKernels(backend as tf.KernelBackend);
    if (!kernels) return undefined;
    const wasm = backend as unknown as WasmHeapBackend;
    // Made before the offsets are read: making it may grow the heap.
    const out = wasm.makeOutput(outShape, 'float32');
    const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
    const name = broadcastFunctionName(operation, rows.kind, aFull);
    const [fullAt, otherAt, outAt, rowBytes, stepBytes] = [at(full), at(other), at(out), 4 * rows.columns, 4 * rows.otherStep];
    const threads = kernels.threads();
    const parts = Math.min(rows.rows, elementwiseParts(threads.count, size));
    if (parts > 1) {
      // Runs of whole rows, each its own stretch of the output; a 'column' operand's values move with the rows.
      const fn = kernels.broadcastIndex(name);
      threads.run(evenRuns(rows.rows, parts).map(([first, end]) => [{ fn, args: [fullAt + first * rowBytes, otherAt + first * stepBytes, outAt + first * rowBytes, end - first, rowBytes, stepBytes] }]));
      heapBroadcastThreadedCalls.count++;
    } else kernels.broadcast(name)(fullAt, otherAt, outAt, rows.rows, rowBytes, stepBytes);
    heapBroadcastCalls.count++;
    return out;
  };
}
