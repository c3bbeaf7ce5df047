import type { KernelCall, KernelThreads } from './kernel-threads.js';
import { evenRuns } from './product-tiles.js';
import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/** A 2-D convolution's geometry (NHWC, no dilation) as its filter gradient walks it. */
export interface FilterGeometry {
  batch: number;
  height: number;
  width: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  top: number;
  left: number;
}

/** One tap's run over the batch: image 0's first output row whose tap row lies inside x, and how many such rows each image has. */
export interface TapRun {
  i: number;
  j: number;
  /** Flat index (pixels) of the input pixel the run's first output pixel reads, in image 0. */
  inputPixel: number;
  /** Flat index of that output pixel, in image 0. */
  outputPixel: number;
  /** Output pixels a row of the run has (the next ones read every strideWidth-th input pixel). */
  pixels: number;
  /** Output rows an image has in the run (the next ones read every strideHeight-th input row). */
  rows: number;
}

/**
 * For each tap (i, j), the output pixels whose tap lies inside x: in every image the rows oh with
 * 0 <= oh·sh + i - top < height, and in each the columns ow with 0 <= ow·sw + j - left < width.
 * Taps that read only padding are left out (padding adds zeros).
 */
export function tapRuns(g: FilterGeometry): TapRun[] {
  const runs: TapRun[] = [];
  for (let i = 0; i < g.filterHeight; i++) {
    const firstRow = Math.max(0, Math.ceil((g.top - i) / g.strideHeight));
    const endRow = Math.min(g.outHeight, Math.floor((g.height - 1 + g.top - i) / g.strideHeight) + 1);
    if (endRow <= firstRow) continue;
    for (let j = 0; j < g.filterWidth; j++) {
      const first = Math.max(0, Math.ceil((g.left - j) / g.strideWidth));
      const end = Math.min(g.outWidth, Math.floor((g.width - 1 + g.left - j) / g.strideWidth) + 1);
      if (end <= first) continue;
      const inputPixel = (firstRow * g.strideHeight + i - g.top) * g.width + first * g.strideWidth + j - g.left;
      runs.push({ i, j, inputPixel, outputPixel: firstRow * g.outWidth + first, pixels: end - first, rows: endRow - firstRow });
    }
  }
  return runs;
}

/** i32 words of a tap table's header (tapTableFunction): taps, outHeight, row, image and pixel steps, channels. */
export const TAP_TABLE_HEADER = 12;
/** i32 words of each tap's entry: first and end output rows, x's and dy's offsets in a row, pixels, the total's offset. */
export const TAP_TABLE_ENTRY = 6;

/** What a tap table describes: per image and output row, each tap's run, for x read as a vector of channels or one channel splat. */
export interface TapTableGeometry extends FilterGeometry {
  /** Float32 elements of one pixel of x and of dy. */
  xChannels: number;
  dyChannels: number;
  /** 'splat': x's channels one at a time against dy's (a convolution); 'vector': x's lanes against the same lanes of dy (depthwise). */
  x: 'vector' | 'splat';
}

/**
 * The table tapTableFunction reads (i32 words at its start): the header, then per tap whose
 * window reaches inside x its output rows [first, end) in every image, the byte offsets of its
 * first pixel in x and in dy from the start of an output row's input and dy rows, its pixels per
 * row, and its total's byte offset in the gradient. The x offset is relative to input row oh·sh of
 * the image: (i - top) rows on, so negative for the top taps (whose first rows are past 0).
 */
export function tapTable(g: TapTableGeometry): Int32Array {
  const runs = tapRuns(g);
  const table = new Int32Array(TAP_TABLE_HEADER + TAP_TABLE_ENTRY * runs.length);
  const [xPixel, dyPixel] = [4 * g.xChannels, 4 * g.dyChannels];
  const splat = g.x === 'splat';
  table.set([runs.length, g.outHeight, g.strideHeight * g.width * xPixel, g.outWidth * dyPixel, g.height * g.width * xPixel, g.outHeight * g.outWidth * dyPixel, g.strideWidth * xPixel, dyPixel, splat ? g.xChannels : 1, splat ? 4 : 0, splat ? dyPixel : 0]);
  runs.forEach((run, t) => {
    const first = Math.floor(run.outputPixel / g.outWidth);
    const column = run.outputPixel - first * g.outWidth;
    // The run's first input pixel, relative to input row first·sh (its output row's): (i - top) rows and the column on.
    const xOffset = (run.inputPixel - first * g.strideHeight * g.width) * xPixel;
    const total = (run.i * g.filterWidth + run.j) * (splat ? g.xChannels * dyPixel : dyPixel);
    table.set([first, first + run.rows, xOffset, column * dyPixel, run.pixels, total], TAP_TABLE_HEADER + TAP_TABLE_ENTRY * t);
  });
  return table;
}

/**
 * `name(x, dy, out, table, images, lane, blocks)`: a filter gradient's sums for `blocks` blocks of
 * `channels` (16 or 4) lanes of dy from byte `lane` of a pixel on, over every image, output row and
 * tap of the `table` (tapTable, at byte `table`): per image, per output row in order, per tap whose
 * rows include it, per channel of x ('splat': each of x's channels splat against the lanes; 'vector':
 * x's same lanes), per block, the row's Σ x · dy (each multiply and add rounded as a plain loop
 * rounds them, one v128 accumulator per 4 lanes) added to the total at `out` + the tap's offset
 * (+ the channel's, 'splat') + the lanes'. Each total gets its rows' sums in image and row order:
 * the order of a loop over images and rows outermost, which keeps a row of x and dy in the cache
 * through every tap. Calls for different blocks write different totals.
 */
export function tapTableFunction(name: string, channels: 4 | 16, x: 'vector' | 'splat'): WasmFunction {
  const [xAt, dy, out, table, images, laneFirst, blocks] = [0, 1, 2, 3, 4, 5, 6];
  let next = 7;
  const [oh, xRow, dyRow, entry, tapsLeft, xTap, dyTap, totalAt, channelsLeft, lane, blocksLeft, xp, dp, left] = Array.from({ length: 14 }, () => next++);
  const i32Locals = next - 7;
  const sums = Array.from({ length: channels / 4 }, () => next++);
  const value = next++;
  const header = (word: number) => 4 * word;
  const laneBytes = 4 * channels;
  const body = new Code().block((exit) => {
    exit.get(images).i32Eqz().brIf(0).get(blocks).i32Eqz().brIf(0).get(table).i32Load(header(0)).i32Eqz().brIf(0);
    exit.loop((image) => {
      image.i32(0).set(oh).get(xAt).set(xRow).get(dy).set(dyRow);
      image.loop((row) => {
        row.get(table).i32(4 * TAP_TABLE_HEADER).i32Add().set(entry).get(table).i32Load(header(0)).set(tapsLeft);
        row.loop((tap) => {
          tap.block((skip) => {
            // Rows outside [first, end) of this tap read padding only.
            skip.get(oh).get(entry).i32Load(0).i32LtU().get(oh).get(entry).i32Load(4).i32LtU().i32Eqz().i32Or().brIf(0);
            skip.get(xRow).get(entry).i32Load(8).i32Add().set(xTap);
            skip.get(dyRow).get(entry).i32Load(12).i32Add().set(dyTap);
            skip.get(out).get(entry).i32Load(20).i32Add().set(totalAt);
            skip.get(table).i32Load(header(8)).set(channelsLeft);
            skip.loop((channel) => {
              channel.get(laneFirst).set(lane).get(blocks).set(blocksLeft);
              channel.loop((block) => {
                for (const sum of sums) block.v128Zero().set(sum);
                block.get(xTap);
                if (x === 'vector') block.get(lane).i32Add();
                block.set(xp).get(dyTap).get(lane).i32Add().set(dp).get(entry).i32Load(16).set(left);
                block.loop((pixel) => {
                  if (x === 'splat') pixel.get(xp).f32Load().f32x4Splat().set(value);
                  sums.forEach((sum, k) => {
                    pixel.get(sum);
                    if (x === 'splat') pixel.get(value);
                    else pixel.get(xp).v128Load(16 * k);
                    pixel.get(dp).v128Load(16 * k).f32x4Mul().f32x4Add().set(sum);
                  });
                  pixel.get(xp).get(table).i32Load(header(6)).i32Add().set(xp);
                  pixel.get(dp).get(table).i32Load(header(7)).i32Add().set(dp);
                  pixel.get(left).i32(1).i32Sub().tee(left).brIf(0);
                });
                sums.forEach((sum, k) => block.get(totalAt).get(lane).i32Add().get(totalAt).get(lane).i32Add().v128Load(16 * k).get(sum).f32x4Add().v128Store(16 * k));
                block.get(lane).i32(laneBytes).i32Add().set(lane);
                block.get(blocksLeft).i32(1).i32Sub().tee(blocksLeft).brIf(0);
              });
              channel.get(xTap).get(table).i32Load(header(9)).i32Add().set(xTap);
              channel.get(totalAt).get(table).i32Load(header(10)).i32Add().set(totalAt);
              channel.get(channelsLeft).i32(1).i32Sub().tee(channelsLeft).brIf(0);
            });
          });
          tap.get(entry).i32(4 * TAP_TABLE_ENTRY).i32Add().set(entry);
          tap.get(tapsLeft).i32(1).i32Sub().tee(tapsLeft).brIf(0);
        });
        row.get(xRow).get(table).i32Load(header(2)).i32Add().set(xRow);
        row.get(dyRow).get(table).i32Load(header(3)).i32Add().set(dyRow);
        row.get(oh).i32(1).i32Add().tee(oh).get(table).i32Load(header(1)).i32LtU().brIf(0);
      });
      image.get(xAt).get(table).i32Load(header(4)).i32Add().set(xAt);
      image.get(dy).get(table).i32Load(header(5)).i32Add().set(dy);
      image.get(images).i32(1).i32Sub().tee(images).brIf(0);
    });
  });
  const locals: ValueType[] = [...Array.from({ length: i32Locals }, (): ValueType => I32), ...sums.map((): ValueType => V128), V128];
  return { name, params: Array.from({ length: 7 }, (): ValueType => I32), locals, body };
}

/** The indices, among the kernel module's functions, of a tap-table function's 16- and 4-lane forms (for kernel-thread calls). */
export interface TapTableFunctions {
  wide: number;
  narrow: number;
}

/** Multiply-adds from which a filter gradient is cut among the kernel threads (below, waking a helper costs more than it saves). Tests lower it to cut small cases. */
export const tapsParallelFrom = { macs: 1 << 20 };

/**
 * A filter gradient's calls of tapTableFunction over dy's `lanes` float32 lanes (a multiple of 4):
 * its blocks of 16 lanes cut into runs (4 a thread from tapsParallelFrom.macs), and the lanes
 * past the last 16 as one more call of the 4-lane form. Each call writes totals no other touches.
 */
export function tapTableCalls(threads: KernelThreads, fns: TapTableFunctions, at: { x: number; dy: number; out: number; table: number }, images: number, lanes: number, macs: number): KernelCall[][] {
  const wide = Math.floor(lanes / 16);
  const narrow = (lanes - 16 * wide) / 4;
  const parts = macs < tapsParallelFrom.macs || threads.count === 1 ? 1 : 4 * threads.count;
  const call = (fn: number, lane: number, blocks: number): KernelCall => ({ fn, args: [at.x, at.dy, at.out, at.table, images, lane, blocks] });
  const chunks: KernelCall[][] = evenRuns(wide, Math.min(parts, Math.max(1, wide))).map(([first, end]) => [call(fns.wide, 64 * first, end - first)]);
  if (narrow > 0) chunks.push([call(fns.narrow, 64 * wide, narrow)]);
  return chunks;
}
