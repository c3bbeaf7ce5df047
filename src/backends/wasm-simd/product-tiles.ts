import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/**
 * `productRows{R}x{V}(a, b, c, depth, aRowBytes, bRowBytes, cRowBytes, blocks, groups)`: `groups`
 * groups of R rows of c = a·b, each in `blocks` tiles of 4·V columns side by side. a's rows start
 * at byte `a`, `aRowBytes` apart, `depth` float32 each; b's `depth` rows at byte `b`, `bRowBytes`
 * apart; c's rows at byte `c`, `cRowBytes` apart. A tile keeps its R·V accumulators in registers
 * over the whole depth: per step V vector loads of b, R splats of a, R·V multiplies and adds, the
 * sums in depth order from 0 (one rounding per multiply and per add, as a plain loop rounds them).
 * `depth`, `blocks` and `groups` are at least 1.
 */
export function productRowsFunction(rows: number, vectors: number): WasmFunction {
  const [a, b, c, depth, aRow, bRow, cRow, blocks, groups] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  let next = 9;
  const aRows = Array.from({ length: rows }, () => next++);
  const [bAt, cAt, left, tilesLeft, lane] = [next++, next++, next++, next++, next++];
  const i32Locals = next - 9;
  const accumulators = Array.from({ length: rows * vectors }, () => next++);
  const bVectors = Array.from({ length: vectors }, () => next++);
  const splat = next++;
  const acc = (r: number, v: number) => accumulators[r * vectors + v]!;
  const body = new Code().loop((group) => {
    group.get(c).set(cAt).get(b).set(bAt).get(blocks).set(tilesLeft);
    group.loop((tile) => {
      for (const accumulator of accumulators) tile.v128Zero().set(accumulator);
      tile.get(a).set(aRows[0]!);
      for (let r = 1; r < rows; r++) tile.get(aRows[r - 1]!).get(aRow).i32Add().set(aRows[r]!);
      tile.get(bAt).set(lane).get(depth).set(left);
      tile.loop((step) => {
        for (let v = 0; v < vectors; v++) step.get(lane).v128Load(16 * v).set(bVectors[v]!);
        for (let r = 0; r < rows; r++) {
          step.get(aRows[r]!).f32Load().f32x4Splat().set(splat);
          for (let v = 0; v < vectors; v++) step.get(acc(r, v)).get(splat).get(bVectors[v]!).f32x4Mul().f32x4Add().set(acc(r, v));
          step.get(aRows[r]!).i32(4).i32Add().set(aRows[r]!);
        }
        step.get(lane).get(bRow).i32Add().set(lane);
        step.get(left).i32(1).i32Sub().tee(left).brIf(0);
      });
      // The tile's rows: row r at cAt + r·cRowBytes.
      tile.get(cAt).set(lane);
      for (let r = 0; r < rows; r++) {
        if (r > 0) tile.get(lane).get(cRow).i32Add().set(lane);
        for (let v = 0; v < vectors; v++) tile.get(lane).get(acc(r, v)).v128Store(16 * v);
      }
      tile.get(bAt).i32(16 * vectors).i32Add().set(bAt);
      tile.get(cAt).i32(16 * vectors).i32Add().set(cAt);
      tile.get(tilesLeft).i32(1).i32Sub().tee(tilesLeft).brIf(0);
    });
    group.get(a).get(aRow).i32(rows).i32Mul().i32Add().set(a);
    group.get(c).get(cRow).i32(rows).i32Mul().i32Add().set(c);
    group.get(groups).i32(1).i32Sub().tee(groups).brIf(0);
  });
  const locals: ValueType[] = [...Array.from({ length: i32Locals }, (): ValueType => I32), ...Array.from({ length: rows * vectors + vectors + 1 }, (): ValueType => V128)];
  return { name: productRowsName(rows, vectors), params: [I32, I32, I32, I32, I32, I32, I32, I32, I32], locals, body };
}

export function productRowsName(rows: number, vectors: number): string {
  return `productRows${rows}x${vectors}`;
}

export type ProductRows = (a: number, b: number, c: number, depth: number, aRowBytes: number, bRowBytes: number, cRowBytes: number, blocks: number, groups: number) => void;

/** The tiles a product is cut into: the widest first, then single vectors and single rows for the edges. */
export interface ProductTiles {
  /** PAIR_ROWS rows by WIDE_VECTORS vectors. */
  wide: ProductRows;
  /** PAIR_ROWS rows by one vector. */
  narrow: ProductRows;
  /** One row by WIDE_VECTORS vectors. */
  wideRow: ProductRows;
  /** One row by one vector. */
  narrowRow: ProductRows;
}

/**
 * 2 rows by 4 vectors (16 columns): eight accumulators, four loads of b and two splats a step.
 * Measured on [128, 120]·[120, 48] products, one thread: 2x16 34 GFLOP/s, 4x8 30, 4x12 and 3x16
 * 25, 6x8 21 (more accumulators than x64's 16 vector registers hold with the loads beside them).
 */
export const PAIR_ROWS = 2;
export const WIDE_VECTORS = 4;

export function productTileFunctions(): WasmFunction[] {
  return [productRowsFunction(PAIR_ROWS, WIDE_VECTORS), productRowsFunction(PAIR_ROWS, 1), productRowsFunction(1, WIDE_VECTORS), productRowsFunction(1, 1)];
}

export function productTilesOf(exports: WebAssembly.Exports): ProductTiles {
  const tile = (rows: number, vectors: number) => exports[productRowsName(rows, vectors)] as ProductRows;
  return { wide: tile(PAIR_ROWS, WIDE_VECTORS), narrow: tile(PAIR_ROWS, 1), wideRow: tile(1, WIDE_VECTORS), narrowRow: tile(1, 1) };
}

/**
 * c = a·b for `batches` row-major float32 products of [m, k]·[k, n] lying one after the other at
 * byte offsets a, b and c of the heap. n must be at least 4 and k at least 1: columns past the last
 * multiple of 4 are computed by one more 4-column tile ending at column n, which writes again the
 * columns it shares with the tile before, with the same values (the same sums in the same order).
 */
export function batchedProduct(tiles: ProductTiles, a: number, b: number, c: number, batches: number, m: number, k: number, n: number): void {
  if (n < 4 || k < 1) throw new RangeError(`the SIMD product needs n >= 4 and k >= 1, not n = ${n}, k = ${k}`);
  const wideColumns = 4 * WIDE_VECTORS;
  const wideBlocks = Math.floor(n / wideColumns);
  const narrowBlocks = Math.floor((n - wideBlocks * wideColumns) / 4);
  const covered = wideBlocks * wideColumns + narrowBlocks * 4;
  const pairs = Math.floor(m / PAIR_ROWS);
  const [aRow, bRow, cRow] = [4 * k, 4 * n, 4 * n];
  for (let batch = 0; batch < batches; batch++) {
    const [aAt, bAt, cAt] = [a + batch * m * aRow, b + batch * k * bRow, c + batch * m * cRow];
    const rowRuns: Array<[ProductRows, ProductRows, number, number]> = [[tiles.wide, tiles.narrow, 0, pairs]];
    if (m % PAIR_ROWS !== 0) rowRuns.push([tiles.wideRow, tiles.narrowRow, pairs * PAIR_ROWS, m - pairs * PAIR_ROWS]);
    for (const [wide, narrow, firstRow, groups] of rowRuns) {
      if (groups === 0) continue;
      const aFirst = aAt + firstRow * aRow;
      const cFirst = cAt + firstRow * cRow;
      if (wideBlocks > 0) wide(aFirst, bAt, cFirst, k, aRow, bRow, cRow, wideBlocks, groups);
      if (narrowBlocks > 0) narrow(aFirst, bAt + 4 * wideBlocks * wideColumns, cFirst + 4 * wideBlocks * wideColumns, k, aRow, bRow, cRow, narrowBlocks, groups);
      if (covered < n) narrow(aFirst, bAt + 4 * (n - 4), cFirst + 4 * (n - 4), k, aRow, bRow, cRow, 1, groups);
    }
  }
}
