import { evenRuns } from '../wasm-simd/product-tiles.js';
import type { WasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { elementwiseParts } from './heap-elementwise.js';

/** A kernel of keras-bridge's wasm SIMD module that works on groups of four rows (row-sums.ts: four rows' sums in one vector). */
export interface RowGroupKernel {
  /** The function's index among the module's (WasmHeapKernels). */
  fn: number;
  rows: number;
  /** Float32 per row. */
  columns: number;
  /** Its arguments for `groups` groups from the one at byte offset `offset` past the first row. */
  args: (offset: number, groups: number) => number[];
}

/**
 * Runs `kernel` over every whole group of four rows, the groups cut among the kernel threads (as an
 * elementwise pass of the same size), then `tail` for each row past the last group, on the
 * calling thread with the heap as float32.
 */
export function inRowGroups(kernels: WasmHeapKernels, kernel: RowGroupKernel, tail: (row: number, heap: Float32Array) => void): void {
  const groups = Math.floor(kernel.rows / 4);
  if (groups > 0) {
    const threads = kernels.threads();
    const groupBytes = 16 * kernel.columns;
    const parts = Math.min(groups, elementwiseParts(threads.count, kernel.rows * kernel.columns));
    threads.run(evenRuns(groups, parts).map(([first, end]) => [{ fn: kernel.fn, args: kernel.args(first * groupBytes, end - first) }]));
  }
  const heap = kernels.float32Heap();
  for (let row = 4 * groups; row < kernel.rows; row++) tail(row, heap);
}
