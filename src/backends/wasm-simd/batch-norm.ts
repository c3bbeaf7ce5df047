import { rowsOfVectors } from './row-loops.js';
import type { KernelCall, KernelThreads } from './kernel-threads.js';
import { evenRuns } from './product-tiles.js';
import { Code, I32, V128, type WasmFunction } from './wasm-binary.js';

/**
 * Batch normalization with given statistics (BatchNormalization at inference, and in a forward
 * pass under a tape), channels last, channels a multiple of 4, in wasm SIMD on tfjs-backend-wasm's
 * heap: the forward pass and the three gradients each in one pass over the activations, where
 * tfjs-backend-wasm's kernels take two passes forward and six backward.
 */

/**
 * `channelAffine(x, factor, shift, out, pixels, rowBytes)`: out = x · factor[c] + shift[c] per
 * pixel (`rowBytes` = 4 · channels), rounded after the product and after the sum, as a Multiply
 * then an Add are.
 */
export function channelAffineFunction(): WasmFunction {
  const [x, factor, shift, out, pixels, rowBytes] = [0, 1, 2, 3, 4, 5];
  const at = 6;
  const body = rowsOfVectors(new Code(), { rows: pixels, rowBytes, at, advance: [x, out] }, (channel) =>
    channel
      .get(out).get(at).i32Add()
      .get(x).get(at).i32Add().v128Load()
      .get(factor).get(at).i32Add().v128Load()
      .f32x4Mul()
      .get(shift).get(at).i32Add().v128Load()
      .f32x4Add()
      .v128Store(),
  );
  return { name: 'channelAffine', params: [I32, I32, I32, I32, I32, I32], locals: [I32], body };
}

/**
 * `batchNormGradient(dy, x, dx, mean, factor, centeredSums, sums, pixels, rowBytes)`: per pixel,
 * dx = dy · factor[c], and per channel centeredSums[c] += dy · (x - mean[c]), sums[c] += dy.
 */
export function batchNormGradientFunction(): WasmFunction {
  const [dy, x, dx, mean, factor, centeredSums, sums, pixels, rowBytes] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [at, d] = [9, 10];
  const body = rowsOfVectors(new Code(), { rows: pixels, rowBytes, at, advance: [dy, x, dx] }, (channel) =>
    channel
      .get(dy).get(at).i32Add().v128Load().set(d)
      .get(dx).get(at).i32Add()
      .get(d).get(factor).get(at).i32Add().v128Load().f32x4Mul()
      .v128Store()
      .get(centeredSums).get(at).i32Add()
      .get(centeredSums).get(at).i32Add().v128Load()
      .get(d)
      .get(x).get(at).i32Add().v128Load().get(mean).get(at).i32Add().v128Load().f32x4Sub()
      .f32x4Mul()
      .f32x4Add()
      .v128Store()
      .get(sums).get(at).i32Add()
      .get(sums).get(at).i32Add().v128Load()
      .get(d)
      .f32x4Add()
      .v128Store(),
  );
  return { name: 'batchNormGradient', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32], locals: [I32, V128], body };
}

export type ChannelAffine = (x: number, factor: number, shift: number, out: number, pixels: number, rowBytes: number) => void;
export type BatchNormGradient = (dy: number, x: number, dx: number, mean: number, factor: number, centeredSums: number, sums: number, pixels: number, rowBytes: number) => void;

/**
 * Pixels whose sums are taken apart, then added to the totals: each total adds one term per block
 * instead of one per pixel, so float32 rounding grows with pixels / PIXEL_BLOCK, not pixels.
 */
export const PIXEL_BLOCK = 64;

/** Float32 elements from which the gradient's pixel blocks are cut among the kernel threads (below, waking a helper costs more than it saves). */
const PARALLEL_FROM_ELEMENTS = 1 << 16;

/** Scratch elements batchNormGradientOnHeap needs: two sums of `channels` per block of PIXEL_BLOCK pixels. */
export function batchNormGradientScratch(pixels: number, channels: number): number {
  return 2 * channels * Math.max(1, Math.ceil(pixels / PIXEL_BLOCK));
}

/**
 * The three gradients of y = (x - mean) · r · scale + offset, r = 1 / sqrt(variance + ε), over
 * `pixels` rows of `channels` float32 at heap offsets (elements) dy, x, dx: dx = dy · r · scale,
 * dscale = Σ dy · (x - mean) · r, doffset = Σ dy. `factor` holds r · scale and `r` holds r (C each),
 * `scratch` batchNormGradientScratch(pixels, channels) elements of room, `dscale` and `doffset` C
 * each (overwritten). Each block's sums go to scratch of its own, so the blocks (kernel `index` of
 * the module, batchNormGradientFunction) are cut among `threads`; the blocks' sums are then added
 * to the totals here, in block order: the same totals whatever the cut. On one thread, ResNet50's
 * forward+backward pass at batch 32 spent 337 ms of 8.4 s in these gradients.
 */
export function batchNormGradientOnHeap(
  threads: KernelThreads,
  index: number,
  heap: Float32Array,
  at: { dy: number; x: number; dx: number; mean: number; factor: number; r: number; scratch: number; dscale: number; doffset: number },
  pixels: number,
  channels: number,
): void {
  if (channels % 4 !== 0) throw new Error(`batchNormGradientOnHeap: ${channels} channels, not a multiple of 4`);
  const blocks = Math.ceil(pixels / PIXEL_BLOCK);
  heap.fill(0, at.scratch, at.scratch + 2 * channels * blocks);
  const calls: KernelCall[] = [];
  for (let block = 0; block < blocks; block++) {
    const first = block * PIXEL_BLOCK;
    const shift = first * channels;
    const centered = at.scratch + 2 * channels * block;
    calls.push({ fn: index, args: [4 * (at.dy + shift), 4 * (at.x + shift), 4 * (at.dx + shift), 4 * at.mean, 4 * at.factor, 4 * centered, 4 * (centered + channels), Math.min(PIXEL_BLOCK, pixels - first), 4 * channels] });
  }
  const parts = pixels * channels < PARALLEL_FROM_ELEMENTS || threads.count === 1 ? 1 : 4 * threads.count;
  threads.run(evenRuns(blocks, Math.min(parts, blocks)).map(([first, end]) => calls.slice(first, end)));
  heap.fill(0, at.dscale, at.dscale + channels);
  heap.fill(0, at.doffset, at.doffset + channels);
  for (let block = 0; block < blocks; block++) {
    const centered = at.scratch + 2 * channels * block;
    for (let c = 0; c < channels; c++) {
      heap[at.dscale + c] += heap[centered + c]!;
      heap[at.doffset + c] += heap[centered + channels + c]!;
    }
  }
  for (let c = 0; c < channels; c++) heap[at.dscale + c] = heap[at.dscale + c]! * heap[at.r + c]!;
}
