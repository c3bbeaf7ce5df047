import * as tf from '@tensorflow/tfjs';
import { transposeMatrices } from '../wasm-simd/transpose-blocks.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { identityTranspose } from './order-preserving-transpose.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** A transpose seen as `batches` matrices of `rows` by `cols`, each transposed. */
export interface MatrixTranspose {
  batches: number;
  rows: number;
  cols: number;
}

/**
 * Whether `perm` on `shape` swaps two runs of axes under leading axes that stay (any number, each
 * run any length: [1, 0], [0, 2, 1], [2, 0, 1], [0, 3, 1, 2], ...), and so is a batch of matrix
 * transposes; undefined for anything else (a last axis that stays, a three-way move). Axes of
 * length 1 move no value and are left out first.
 */
export function asMatrixTranspose(shape: readonly number[], perm: readonly number[]): MatrixTranspose | undefined {
  const moved = perm.filter((axis) => shape[axis] !== 1);
  // Runs of axes that stay next to each other, in their output order.
  const runs: number[][] = [];
  for (const axis of moved) {
    const run = runs[runs.length - 1];
    if (run && axis === run[run.length - 1]! + 1) run.push(axis);
    else runs.push([axis]);
  }
  const length = (run: number[]) => run.reduce((p, axis) => p * shape[axis]!, 1);
  const first = (run: number[]) => run[0]!;
  if (runs.length === 2 && first(runs[0]!) > first(runs[1]!)) return { batches: 1, rows: length(runs[1]!), cols: length(runs[0]!) };
  if (runs.length === 3 && first(runs[0]!) < first(runs[2]!) && first(runs[2]!) < first(runs[1]!)) return { batches: length(runs[0]!), rows: length(runs[2]!), cols: length(runs[1]!) };
  return undefined;
}

/** How many transposes ran in wasm SIMD (tests check the path a case took). */
export const heapTransposeCalls = { count: 0 };

/**
 * Transpose on wasm: by the identity, a second reference (order-preserving-transpose.ts); as a
 * batch of matrix transposes of 32-bit values, keras-bridge's 4x4-block SIMD kernel on the heap
 * (wasm-simd/transpose-blocks.ts); of an empty tensor, an empty output (tfjs-backend-wasm 4.22's kernel
 * divides by zero). tfjs-backend-wasm 4.22 writes a transpose element by element
 * across the output's rows: 0.4-0.5 GB/s on a [4096, 1024] float32 matrix (39 ms), where a
 * product's gradient transposes such an operand every call (docs/wasm-kernels.md). Anything else
 * (bool, a last axis that stays): undefined, and tfjs's kernel runs.
 */
export function heapTranspose(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | undefined {
  const same = identityTranspose(args, original);
  if (same) return same;
  const x = args.inputs['x'];
  const perm = args.attrs?.['perm'] as number[] | undefined;
  if (!x || !perm || perm.length !== x.shape.length || x.dtype === 'string' || x.dtype === 'complex64') return undefined;
  const wasm = args.backend as unknown as WasmHeapBackend;
  // tfjs-backend-wasm 4.22's kernel divides by zero on an empty tensor.
  if (x.shape.some((d) => d === 0)) return wasm.makeOutput(perm.map((axis) => x.shape[axis]!), x.dtype);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
  const matrices = asMatrixTranspose(x.shape, perm);
  if (!matrices) return undefined;
  const kernels = wasmHeapKernels(args.backend as tf.KernelBackend);
  if (!kernels) return undefined;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput(perm.map((axis) => x.shape[axis]!), x.dtype);
  const source = wasm.typedArrayFromHeap(x).byteOffset / 4;
  const target = wasm.typedArrayFromHeap(out).byteOffset / 4;
  transposeMatrices(kernels.transpose4x4Strip, kernels.int32Heap(), source, target, matrices.batches, matrices.rows, matrices.cols);
  heapTransposeCalls.count++;
  return out;
}
