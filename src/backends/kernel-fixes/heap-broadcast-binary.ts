import * as tf from '@tensorflow/tfjs';
import { asRowBroadcast, broadcastFunctionName, type BroadcastOperation } from '../wasm-simd/broadcast-binary.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** How many broadcasts ran in wasm SIMD (tests check the path a case took). */
export const heapBroadcastCalls = { count: 0 };

/**
 * A float32 Add, Sub, Multiply or RealDiv on wasm where one operand is broadcast against the other
 * as a row vector (a bias), one value per row (a LayerNormalization's mean and variance, an
 * attention mask's column) or a scalar: keras-bridge's wasm SIMD kernel on the heap
 * (wasm-simd/broadcast-binary.ts). tfjs-backend-wasm 4.22 runs operands of equal shapes in
 * XNNPACK, about 1.3 ns an element here, but computes a source index per element for any
 * broadcast, 12-14 ns: a scalar times [1, 128, 1024] took 1.6 ms, [1, 128, 1] times
 * [1, 128, 256] 0.47 ms. Equal shapes, other broadcasts, rows that are not whole vectors of 4:
 * undefined, and tfjs's kernel runs.
 */
export function heapBroadcastBinary(operation: BroadcastOperation): (args: KernelArgs, original: tf.KernelFunc | undefined) => tf.TensorInfo | undefined {
  return ({ inputs, backend }) => {
    const { a, b } = inputs as Record<string, tf.TensorInfo>;
    if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
    if (a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) return undefined;
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
    kernels.broadcast(broadcastFunctionName(operation, rows.kind, aFull))(at(full), at(other), at(out), rows.rows, 4 * rows.columns, 4 * rows.otherStep);
    heapBroadcastCalls.count++;
    return out;
  };
}
