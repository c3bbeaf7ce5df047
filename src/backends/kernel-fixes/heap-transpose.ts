import tf from '#tfjs';
import { evenRuns } from '../wasm-simd/product-tiles.js';
import type { KernelCall } from '../wasm-simd/kernel-threads.js';
import { transposeMatrices } from '../wasm-simd/transpose-blocks.js';
import { elementwiseParts } from './heap-elementwise.js';
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

/** A batch of matrix transposes whose elements are blocks of `blockValues` values (axes that stay at the end). */
export interface BlockTranspose extends MatrixTranspose {
  blockValues: number;
}

/**
 * Whether `perm` on `shape` keeps its last axes (one at least) and moves the ones before as a batch
 * of matrix transposes (asMatrixTranspose): attention's heads, [B, T, H, D] by [0, 2, 1, 3]. The
 * staying axes are each element's block; undefined for anything else.
 */
export function asBlockTranspose(shape: readonly number[], perm: readonly number[]): BlockTranspose | undefined {
  let staying = perm.length;
  while (staying > 0 && perm[staying - 1] === staying - 1) staying--;
  if (staying === perm.length || staying === 0) return undefined;
  const blockValues = shape.slice(staying).reduce((p, d) => p * d, 1);
  const matrices = asMatrixTranspose(shape.slice(0, staying), perm.slice(0, staying));
  return matrices && { ...matrices, blockValues };
}

/** How many transposes ran in wasm SIMD (tests check the path a case took). */
export const heapTransposeCalls = { count: 0 };

/** How many of those moved blocks of values (asBlockTranspose). */
export const heapBlockTransposeCalls = { count: 0 };

/**
 * Transpose on wasm: by the identity, a second reference (order-preserving-transpose.ts); as a
 * batch of matrix transposes of 32-bit values, keras-bridge's 4x4-block SIMD kernel on the heap
 * (wasm-simd/transpose-blocks.ts); of an empty tensor, an empty output (tfjs-backend-wasm 4.22's kernel
 * divides by zero). tfjs-backend-wasm 4.22 writes a transpose element by element
 * across the output's rows: 0.4-0.5 GB/s on a [4096, 1024] float32 matrix (39 ms), where a
 * product's gradient transposes such an operand every call (docs/wasm-kernels.md). Last axes that
 * stay under such a transpose (attention's heads), as whole blocks of values (blockTranspose).
 * Anything else (bool, blocks not whole vectors, three-way moves): undefined, and tfjs's kernel runs.
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
  if (!matrices) return blockTranspose(args, x, perm);
  const kernels = wasmHeapKernels(args.backend as tf.KernelBackend);
  if (!kernels) return undefined;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput(perm.map((axis) => x.shape[axis]!), x.dtype);
  const source = wasm.typedArrayFromHeap(x).byteOffset / 4;
  const target = wasm.typedArrayFromHeap(out).byteOffset / 4;
  const threads = kernels.threads();
  // Cut as an elementwise pass over as many values: from 65,536, four runs a thread.
  transposeMatrices(threads, elementwiseParts(threads.count, tf.util.sizeFromShape(x.shape)), kernels.transpose4x4TileIndex, kernels.int32Heap(), source, target, matrices.batches, matrices.rows, matrices.cols);
  heapTransposeCalls.count++;
  return out;
}

/**
 * A transpose whose last axes stay, as whole blocks of their values in keras-bridge's SIMD copy
 * (wasm-simd/transpose-blocks.ts, transposeBlocks), cut among the kernel threads by columns of each
 * matrix from 65,536 values. Blocks that are not whole vectors of 4 values: undefined, and tfjs's
 * kernel runs, element by element.
 */
function blockTranspose(args: KernelArgs, x: tf.TensorInfo, perm: readonly number[]): tf.TensorInfo | undefined {
  const blocks = asBlockTranspose(x.shape, perm);
  if (!blocks || blocks.blockValues % 4 !== 0) return undefined;
  const kernels = wasmHeapKernels(args.backend as tf.KernelBackend);
  if (!kernels) return undefined;
  const wasm = args.backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput(perm.map((axis) => x.shape[axis]!), x.dtype);
  const [source, target] = [wasm.typedArrayFromHeap(x).byteOffset, wasm.typedArrayFromHeap(out).byteOffset];
  const { batches, rows, cols, blockValues } = blocks;
  const [blockBytes, matrixBytes] = [4 * blockValues, 4 * blockValues * rows * cols];
  const threads = kernels.threads();
  // Units of work: each matrix's columns; chunks of whole runs of them.
  const parts = Math.min(batches * cols, elementwiseParts(threads.count, tf.util.sizeFromShape(x.shape)));
  const fn = kernels.transposeBlocksIndex;
  threads.run(
    evenRuns(batches * cols, parts).map(([first, end]) => {
      const calls: KernelCall[] = [];
      for (let unit = first; unit < end; ) {
        const batch = Math.floor(unit / cols);
        const column = unit % cols;
        const last = Math.min(cols, column + end - unit);
        calls.push({ fn, args: [source + batch * matrixBytes, target + batch * matrixBytes, rows, cols, blockBytes, column, last] });
        unit += last - column;
      }
      return calls;
    }),
  );
  heapTransposeCalls.count++;
  heapBlockTransposeCalls.count++;
  return out;
}
