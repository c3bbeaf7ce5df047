import type { KernelCall, KernelThreads } from './kernel-threads.js';
import { evenRuns } from './product-tiles.js';
import { Code, I32, V128, type WasmFunction } from './wasm-binary.js';

/**
 * `transpose4x4Tile(src, dst, strips, count, srcRowBytes, dstRowBytes)`: `strips` strips one under
 * the other, each `count` 4x4 blocks of 32-bit values side by side, the first at byte `src` in rows
 * `srcRowBytes` apart, each written transposed at `dst`, the next block's 4 rows `4 · dstRowBytes`
 * further on; the next strip 4 source rows on and 4 values on in the destination rows. Four v128
 * loads, eight lane shuffles and four v128 stores a block. A tile of a matrix transpose in one
 * call, where a call per strip cost about as much as the strip (attention's keys, [32, 128, 4, 64]
 * to [32, 4, 64, 128]: 4,096 calls of 1 KB each). `strips` and `count` are at least 1.
 */
export function transpose4x4TileFunction(): WasmFunction {
  const [src, dst, strips, count, srcRow, dstRow] = [0, 1, 2, 3, 4, 5];
  const [from, to, left] = [6, 7, 8];
  const at = 17;
  const body = new Code().loop((strip) => {
    strip.get(src).set(from).get(dst).set(to).get(count).set(left);
    strip.loop((next) => stripBlock(next, { src: from, dst: to, count: left, srcRow, dstRow, vectors: 9, at }));
    strip.get(src).get(srcRow).i32(4).i32Mul().i32Add().set(src);
    strip.get(dst).i32(16).i32Add().set(dst);
    strip.get(strips).i32(1).i32Sub().tee(strips).brIf(0);
  });
  return { name: 'transpose4x4Tile', params: [I32, I32, I32, I32, I32, I32], locals: [I32, I32, I32, V128, V128, V128, V128, V128, V128, V128, V128, I32], body };
}

/**
 * One 4x4 block of a strip, in a loop over `count` of them (its branch back while `count` is left):
 * locals `src`, `dst` and `count` advance; eight v128 locals from `vectors`; an i32 `at`.
 */
function stripBlock(next: Code, l: { src: number; dst: number; count: number; srcRow: number; dstRow: number; vectors: number; at: number }): Code {
  const { src, dst, count, srcRow, dstRow, at } = l;
  const [a, b, c, d, ab01, ab23, cd01, cd23] = Array.from({ length: 8 }, (_, i) => l.vectors + i) as [number, number, number, number, number, number, number, number];
  return next
    // The block's four rows.
    .get(src).v128Load().set(a)
    .get(src).get(srcRow).i32Add().tee(at).v128Load().set(b)
    .get(at).get(srcRow).i32Add().tee(at).v128Load().set(c)
    .get(at).get(srcRow).i32Add().v128Load().set(d)
    // Interleave pairs of rows, then pairs of pairs: column j is a_j b_j c_j d_j.
    .get(a).get(b).shuffle32([0, 4, 1, 5]).set(ab01)
    .get(a).get(b).shuffle32([2, 6, 3, 7]).set(ab23)
    .get(c).get(d).shuffle32([0, 4, 1, 5]).set(cd01)
    .get(c).get(d).shuffle32([2, 6, 3, 7]).set(cd23)
    .get(dst).get(ab01).get(cd01).shuffle32([0, 1, 4, 5]).v128Store()
    .get(dst).get(dstRow).i32Add().tee(at).get(ab01).get(cd01).shuffle32([2, 3, 6, 7]).v128Store()
    .get(at).get(dstRow).i32Add().tee(at).get(ab23).get(cd23).shuffle32([0, 1, 4, 5]).v128Store()
    .get(at).get(dstRow).i32Add().tee(at).get(ab23).get(cd23).shuffle32([2, 3, 6, 7]).v128Store()
    // Next block: 16 bytes on in the source rows, 4 rows on in the destination.
    .get(src).i32(16).i32Add().set(src)
    .get(at).get(dstRow).i32Add().set(dst)
    .get(count).i32(1).i32Sub().tee(count)
    .brIf(0);
}

/**
 * Columns of a source tile: its strips of 4 rows are written next to each other in the same
 * destination rows, so that the destination's cache lines fill before they leave the cache
 * (measured on [64, 100352] and [100352, 64]; without tiles, the long rows' lines are evicted
 * between strips).
 */
const TILE_COLUMNS = 64;

/** Rows of a column tile one call moves at most: runs of them spread a tall matrix's tiles ([100352, 64]: one column tile) over the threads. */
const TILE_ROWS = 256;

/**
 * `batches` row-major matrices of `rows` by `cols` 32-bit values at element `source` of `heap`,
 * written transposed at element `target`: 4x4 blocks in wasm SIMD, each call a run of up to
 * TILE_ROWS rows of a column tile (transpose4x4Tile), the calls cut into at most `parts` runs
 * among `threads` (each value is moved by one thread: the result does not depend on them); the
 * edges (rows or columns past the last multiple of 4) element by element here, after.
 */
export function transposeMatrices(threads: KernelThreads, parts: number, tile: number, heap: Int32Array, source: number, target: number, batches: number, rows: number, cols: number): void {
  const rows4 = rows - (rows % 4);
  const cols4 = cols - (cols % 4);
  const size = rows * cols;
  const calls: KernelCall[] = [];
  for (let m = 0; m < batches && rows4 > 0; m++) {
    const from = source + m * size;
    const to = target + m * size;
    for (let c0 = 0; c0 < cols4; c0 += TILE_COLUMNS) {
      const blocks = Math.min(TILE_COLUMNS, cols4 - c0) / 4;
      for (let r0 = 0; r0 < rows4; r0 += TILE_ROWS) {
        const strips = Math.min(TILE_ROWS, rows4 - r0) / 4;
        calls.push({ fn: tile, args: [4 * (from + r0 * cols + c0), 4 * (to + c0 * rows + r0), strips, blocks, 4 * cols, 4 * rows] });
      }
    }
  }
  if (calls.length > 0) threads.run(evenRuns(calls.length, Math.min(calls.length, parts)).map(([first, end]) => calls.slice(first, end)));
  for (let m = 0; m < batches; m++) {
    const from = source + m * size;
    const to = target + m * size;
    for (let r = rows4; r < rows; r++) for (let c = 0; c < cols; c++) heap[to + c * rows + r] = heap[from + r * cols + c]!;
    for (let r = 0; r < rows4; r++) for (let c = cols4; c < cols; c++) heap[to + c * rows + r] = heap[from + r * cols + c]!;
  }
}

/**
 * `transposeBlocks(src, dst, rows, cols, blockBytes, firstCol, endCol)`: of a matrix of `rows` by
 * `cols` blocks of `blockBytes` (a multiple of 16) at `src`, columns [firstCol, endCol) written as
 * rows of the transposed matrix at `dst`: block (r, c) to (c, r), 16 bytes at a time. A transpose
 * whose last axes stay (attention's [B, T, H, D] to [B, H, T, D]) moves whole runs of D values.
 * rows, blockBytes and endCol - firstCol are at least 1.
 */
export function transposeBlocksFunction(): WasmFunction {
  const [src, dst, rows, cols, blockBytes, column, endCol] = [0, 1, 2, 3, 4, 5, 6];
  const [from, to, rowsLeft, offset, srcRowBytes] = [7, 8, 9, 10, 11];
  const body = new Code()
    .get(cols).get(blockBytes).i32Mul().set(srcRowBytes)
    .loop((columns) => {
      columns
        .get(src).get(column).get(blockBytes).i32Mul().i32Add().set(from)
        .get(dst).get(column).get(rows).i32Mul().get(blockBytes).i32Mul().i32Add().set(to)
        .get(rows).set(rowsLeft)
        .loop((blocks) => {
          blocks.i32(0).set(offset).loop((vectors) =>
            vectors
              .get(to).get(offset).i32Add()
              .get(from).get(offset).i32Add().v128Load()
              .v128Store()
              .get(offset).i32(16).i32Add().tee(offset)
              .get(blockBytes).i32LtU()
              .brIf(0),
          );
          blocks
            .get(from).get(srcRowBytes).i32Add().set(from)
            .get(to).get(blockBytes).i32Add().set(to)
            .get(rowsLeft).i32(1).i32Sub().tee(rowsLeft)
            .brIf(0);
        });
      columns.get(column).i32(1).i32Add().tee(column).get(endCol).i32LtU().brIf(0);
    });
  return { name: 'transposeBlocks', params: [I32, I32, I32, I32, I32, I32, I32], locals: [I32, I32, I32, I32, I32], body };
}
