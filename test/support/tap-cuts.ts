import assert from 'node:assert/strict';
import { tapsParallelFrom } from '../../src/backends/wasm-simd/filter-taps.js';

/**
 * Runs a filter gradient (`run(threads)`, returning its totals) on 1 and on 3 threads' chunks, with
 * the cut among threads lowered to every size (each block of 16 channels a chunk of its own), and
 * checks each against `expected` bit for bit: the sums must not depend on the cut.
 */
export function assertEveryTapCut(run: (threads: number) => Float32Array, expected: Float32Array): void {
  const saved = tapsParallelFrom.macs;
  tapsParallelFrom.macs = 0;
  try {
    for (const threads of [1, 3]) assert.deepEqual(run(threads), expected, `${threads} threads' cut: float32 sums in image and row order, bit for bit`);
  } finally {
    tapsParallelFrom.macs = saved;
  }
}
