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

/** One filter gradient's case on a heap: operand sizes, its float64 and float32-in-order references, and the kernel run on given threads. */
export interface FilterGradientCase<G> {
  heap: Float32Array;
  /** The operands' values come from generator(seed). */
  pick: (n: number) => number;
  sizes: { x: number; dy: number; out: number };
  geometry: G;
  /** Float64 sums (within float32 rounding of the kernel's). */
  reference: (x: Float32Array, dy: Float32Array, g: G) => ArrayLike<number>;
  /** The kernel's own float32 sums in order (bit for bit). */
  inFloat32: (x: Float32Array, dy: Float32Array, g: G) => Float32Array;
  tableWords: number;
  run: (threads: number, at: { x: number; dy: number; out: number; table: number }) => void;
}

/**
 * Lays out x, dy and the output on the heap (every other word 7), fills x and dy, and checks the
 * kernel: every cut bit for bit against the float32 sums in order (assertEveryTapCut), float64's
 * sums within float32 rounding, and nothing written before or after the output.
 */
export function assertFilterGradientCase<G>({ heap, pick, sizes, geometry, reference, inFloat32, tableWords, run }: FilterGradientCase<G>): void {
  const [x, dy, out] = [8, 8 + sizes.x + 4, 8 + sizes.x + 4 + sizes.dy + 4];
  heap.fill(7, 0, out + sizes.out + 8);
  for (let k = 0; k < sizes.x; k++) heap[x + k] = pick(2001) / 1000 - 1;
  for (let k = 0; k < sizes.dy; k++) heap[dy + k] = pick(2001) / 1000 - 1;
  const [xs, dys] = [heap.subarray(x, x + sizes.x), heap.subarray(dy, dy + sizes.dy)];
  const expected = reference(xs, dys, geometry);
  const inOrder = inFloat32(xs, dys, geometry);
  const table = out + sizes.out + 16;
  assertEveryTapCut((threads) => {
    heap.fill(7, out, out + sizes.out);
    run(threads, { x, dy, out, table });
    return heap.slice(out, out + sizes.out);
  }, inOrder);
  assert.ok(table + tableWords <= heap.length);
  const scale = Math.max(...Array.from(expected, Math.abs));
  Array.from(expected).forEach((v, k) => assert.ok(Math.abs(heap[out + k]! - v) <= 1e-6 * scale, `element ${k}: ${heap[out + k]} against ${v}`));
  assert.ok(heap.subarray(out + sizes.out, out + sizes.out + 8).every((v) => v === 7), 'past the output');
  assert.equal(heap[out - 1], 7, 'before the output');
}
