import type { KernelCall, KernelThreads } from './kernel-threads.js';
import type { MultiplyAdd } from './relaxed-simd.js';
import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/**
 * `productRows{R}x{V}(a, b, c, depth, aRowBytes, bRowBytes, cRowBytes, blocks, groups, bBlockBytes,
 * accumulate)`: `groups` groups of R rows of c = a·b, each in `blocks` tiles of 4·V columns side by
 * side. a's rows start at byte `a`, `aRowBytes` apart, `depth` float32 each; a tile's `depth` rows
 * of b start at byte `b`, `bRowBytes` apart, the next tile's `bBlockBytes` further on (16·V in a
 * row-major b, a panel's size in a packed one); c's rows at byte `c`, `cRowBytes` apart. A tile
 * keeps its R·V accumulators in registers over the whole depth: per step V vector loads of b, R
 * splats of a, R·V multiply-adds, the sums in depth order: with `multiplyAdd` 'separate' one
 * rounding per multiply and per add, as a plain loop rounds them; 'fused', one per multiply-add
 * (relaxed_madd: relaxed-simd.ts). With `accumulate` not 0 the sums start from c's values, so that
 * a product cut along its depth sums in the same order as one that is not. `depth`, `blocks` and
 * `groups` are at least 1. The tiles run panel by panel, every row group over one panel before
 * the next (the panel's block stays in the first-level cache while a's rows stream past it), where
 * they ran row group by row group: in alternating processes (three rounds, medians of 20 passes)
 * ResNet50's forward pass at batch 1 98.2 → 92.5 ms, the Transformer block's forward+backward at
 * batch 1 20.9 → 19.4 and forward at batch 32 119 → 109, matmul_stack's forward+backward at
 * batch 1 54.0 → 49.4, with the broadcasting load below. Unrolling the depth loop by 4 for packed
 * panels (their rows a constant 64 bytes apart, loads at fixed offsets) was slower: [2048, 1024]·
 * [1024, 1024] 55 → 82-90 ms.
 */
export function productRowsFunction(rows: number, vectors: number, multiplyAdd: MultiplyAdd): WasmFunction {
  const [a, b, c, depth, aRow, bRow, cRow, blocks, groups, bBlock, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const params = 11;
  let next = params;
  const aRows = Array.from({ length: rows }, () => next++);
  const [cAt, left, groupsLeft, lane, aStart] = [next++, next++, next++, next++, next++];
  const i32Locals = next - params;
  const accumulators = Array.from({ length: rows * vectors }, () => next++);
  const bVectors = Array.from({ length: vectors }, () => next++);
  const splat = next++;
  const acc = (r: number, v: number) => accumulators[r * vectors + v]!;
  /** Each of the tile's rows in turn, `lane` at its first byte in c. */
  const overTileRows = (code: Code, each: (r: number) => void) => {
    code.get(cAt).set(lane);
    for (let r = 0; r < rows; r++) {
      if (r > 0) code.get(lane).get(cRow).i32Add().set(lane);
      each(r);
    }
  };
  /** One tile: its accumulators over the whole depth from the row group at `a`, the panel at `b`, into c at `cAt`. */
  const tileBody = (tile: Code) => {
    for (const accumulator of accumulators) tile.v128Zero().set(accumulator);
    tile.block((fresh) => {
      fresh.get(accumulate).i32Eqz().brIf(0);
      overTileRows(fresh, (r) => {
        for (let v = 0; v < vectors; v++) fresh.get(lane).v128Load(16 * v).set(acc(r, v));
      });
    });
    tile.get(a).set(aRows[0]!);
    for (let r = 1; r < rows; r++) tile.get(aRows[r - 1]!).get(aRow).i32Add().set(aRows[r]!);
    tile.get(b).set(lane).get(depth).set(left);
    tile.loop((step) => {
      for (let v = 0; v < vectors; v++) step.get(lane).v128Load(16 * v).set(bVectors[v]!);
      for (let r = 0; r < rows; r++) {
        // One broadcasting load (x64's vbroadcastss) where a load and a splat took two instructions.
        step.get(aRows[r]!).v128Load32Splat().set(splat);
        for (let v = 0; v < vectors; v++) {
          if (multiplyAdd === 'fused') step.get(splat).get(bVectors[v]!).get(acc(r, v)).f32x4RelaxedMadd().set(acc(r, v));
          else step.get(acc(r, v)).get(splat).get(bVectors[v]!).f32x4Mul().f32x4Add().set(acc(r, v));
        }
        step.get(aRows[r]!).i32(4).i32Add().set(aRows[r]!);
      }
      step.get(lane).get(bRow).i32Add().set(lane);
      step.get(left).i32(1).i32Sub().tee(left).brIf(0);
    });
    overTileRows(tile, (r) => {
      for (let v = 0; v < vectors; v++) tile.get(lane).get(acc(r, v)).v128Store(16 * v);
    });
  };
  // Panels outer, row groups inner: a panel's depth rows stay in the first-level cache while every row group passes over them.
  const body = new Code().get(a).set(aStart).loop((panel) => {
    panel.get(aStart).set(a).get(c).set(cAt).get(groups).set(groupsLeft);
    panel.loop((group) => {
      tileBody(group);
      group.get(a).get(aRow).i32(rows).i32Mul().i32Add().set(a);
      group.get(cAt).get(cRow).i32(rows).i32Mul().i32Add().set(cAt);
      group.get(groupsLeft).i32(1).i32Sub().tee(groupsLeft).brIf(0);
    });
    panel.get(b).get(bBlock).i32Add().set(b);
    panel.get(c).i32(16 * vectors).i32Add().set(c);
    panel.get(blocks).i32(1).i32Sub().tee(blocks).brIf(0);
  });
  const locals: ValueType[] = [...Array.from({ length: i32Locals }, (): ValueType => I32), ...Array.from({ length: rows * vectors + vectors + 1 }, (): ValueType => V128)];
  return { name: productRowsName(rows, vectors), params: Array.from({ length: params }, (): ValueType => I32), locals, body };
}

/**
 * `packPanels(b, packed, depth, bRowBytes, panels)`: `panels` panels of 16 columns of a row-major b
 * (its rows `bRowBytes` apart, `depth` of them, the first panel at byte b) written one after the
 * other at byte `packed`, each its `depth` rows of 64 bytes in turn: a tile then reads b in one
 * run instead of a line from every row (rows 4 KB apart share a cache set and evict each other).
 */
export function packPanelsFunction(): WasmFunction {
  const [b, packed, depth, bRow, panels] = [0, 1, 2, 3, 4];
  const [from, left] = [5, 6];
  const body = new Code().loop((panel) => {
    panel.get(b).set(from).get(depth).set(left);
    panel.loop((row) => {
      for (let v = 0; v < WIDE_VECTORS; v++) row.get(packed).get(from).v128Load(16 * v).v128Store(16 * v);
      row.get(packed).i32(4 * PANEL_COLUMNS).i32Add().set(packed);
      row.get(from).get(bRow).i32Add().set(from);
      row.get(left).i32(1).i32Sub().tee(left).brIf(0);
    });
    panel.get(b).i32(4 * PANEL_COLUMNS).i32Add().set(b);
    panel.get(panels).i32(1).i32Sub().tee(panels).brIf(0);
  });
  return { name: 'packPanels', params: [I32, I32, I32, I32, I32], locals: [I32, I32], body };
}

export function productRowsName(rows: number, vectors: number): string {
  return `productRows${rows}x${vectors}`;
}

/** The product kernels, as indices of the kernel module's functions: the widest tile first, then single vectors and single rows for the edges. */
export interface ProductTiles {
  /** PAIR_ROWS rows by WIDE_VECTORS vectors. */
  wide: number;
  /** PAIR_ROWS rows by one vector. */
  narrow: number;
  /** One row by WIDE_VECTORS vectors. */
  wideRow: number;
  /** One row by one vector. */
  narrowRow: number;
  packPanels: number;
}

/**
 * 2 rows by 4 vectors (16 columns): eight accumulators, four loads of b and two splats a step.
 * Measured on [128, 120]·[120, 48] products, one thread: 2x16 34 GFLOP/s, 4x8 30, 4x12 and 3x16
 * 25, 6x8 21 (more accumulators than x64's 16 vector registers hold with the loads beside them).
 */
export const PAIR_ROWS = 2;
export const WIDE_VECTORS = 4;
const PANEL_COLUMNS = 4 * WIDE_VECTORS;

export function productTileFunctions(multiplyAdd: MultiplyAdd): WasmFunction[] {
  return [
    productRowsFunction(PAIR_ROWS, WIDE_VECTORS, multiplyAdd),
    productRowsFunction(PAIR_ROWS, 1, multiplyAdd),
    productRowsFunction(1, WIDE_VECTORS, multiplyAdd),
    productRowsFunction(1, 1, multiplyAdd),
    packPanelsFunction(),
  ];
}

/** The kernels' indices among the module's function `names`. */
export function productTilesOf(names: readonly string[]): ProductTiles {
  const index = (name: string) => {
    const at = names.indexOf(name);
    if (at < 0) throw new Error(`the kernel module has no ${name}`);
    return at;
  };
  const tile = (rows: number, vectors: number) => index(productRowsName(rows, vectors));
  return { wide: tile(PAIR_ROWS, WIDE_VECTORS), narrow: tile(PAIR_ROWS, 1), wideRow: tile(1, WIDE_VECTORS), narrowRow: tile(1, 1), packPanels: index('packPanels') };
}

/** Chunks per thread a product is cut into, so that a thread that starts late (or not at all) leaves its share to the others. */
const CHUNKS_PER_THREAD = 4;

/** Bytes of b past which a product with fewer rows than columns is cut by columns (cutByColumns): 1 MB, within the second-level cache of the CPUs measured (2 MB a core on Intel's Xeons, 1 MB on AMD's EPYCs). */
export const COLUMN_CUT_FROM_BYTES = 1 << 20;

/** Multiply-adds from which a product is cut among the kernel threads (below, waking a helper costs more than it saves). */
export const PARALLEL_FROM_MACS = 1 << 20;

/**
 * Cache blocking: a call's b block is DEPTH_BLOCK rows by COLUMN_BLOCK columns (256 KB, in the
 * second-level cache), taken one 16-column panel at a time (DEPTH_BLOCK rows of it: 16 KB, in the
 * first-level cache while every row pair of the call's a passes over it).
 */
export const DEPTH_BLOCK = 256;
export const COLUMN_BLOCK = 256;

/** Row-major float32 products [m, k]·[k, n], `batches` of them one after the other at byte offsets a, b and c of the heap. */
export interface BatchedProduct {
  a: number;
  b: number;
  c: number;
  batches: number;
  m: number;
  k: number;
  n: number;
  /** Byte offset of packedBytes(...) of scratch where b's 16-column panels are packed first; b is read in place without it. */
  packed?: number;
  /** `packed` holds b's panels already (packRightOperand, for an operand used again): only the product runs. */
  prepacked?: boolean;
  /** Bytes from one batch of a, and of c, to the next: m rows' worth where not given (batchStride). */
  aBatchBytes?: number;
  cBatchBytes?: number;
}

/**
 * Bytes between batches of `bytes` each, laid out so that the batches' rows at the same offset
 * fall in different sets of the cache: a whole odd number of 64-byte lines. Kernels that read or
 * write every batch at once (Winograd's transforms: 36 matrices) would otherwise thrash a set
 * where the batches are a multiple of 4 KB apart (F(4x4, 3x3) over 14x14 or 7x7 pixels).
 */
export function batchStride(bytes: number): number {
  return 64 * (Math.ceil(bytes / 64) | 1);
}

/** Bytes the packed panels of b take: every whole 16-column panel of every batch. */
export function packedBytes(batches: number, k: number, n: number): number {
  return 4 * batches * k * PANEL_COLUMNS * Math.floor(n / PANEL_COLUMNS);
}

/** The calls packing panels [firstPanel, endPanel) of b's batches [firstBatch, endBatch). */
function packCalls(tiles: ProductTiles, p: BatchedProduct, packed: number, [firstBatch, endBatch]: [number, number], [firstPanel, endPanel]: [number, number]): KernelCall[] {
  const panels = Math.floor(p.n / PANEL_COLUMNS);
  const calls: KernelCall[] = [];
  for (let batch = firstBatch; batch < endBatch && endPanel > firstPanel; batch++) {
    const b = p.b + 4 * (batch * p.k * p.n + firstPanel * PANEL_COLUMNS);
    calls.push({ fn: tiles.packPanels, args: [b, packed + 4 * (batch * panels + firstPanel) * p.k * PANEL_COLUMNS, p.k, 4 * p.n, endPanel - firstPanel] });
  }
  return calls;
}

/**
 * The tile calls computing rows [firstRow, endRow) of batches [firstBatch, endBatch) of c = a·b.
 * The 16-column panels run in blocks of COLUMN_BLOCK columns by DEPTH_BLOCK rows of b, each block
 * after the first along the depth adding to what the one before left in c (the sums keep their
 * order). Columns past the last panel run as 4-column tiles over the whole depth, and columns past
 * the last multiple of 4 as one more 4-column tile ending at column n, last, which writes again
 * the columns it shares with the tile before, with the same values (the same sums in the same
 * order). n must be at least 4 and k at least 1.
 */
export function productCalls(tiles: ProductTiles, p: BatchedProduct, batches: readonly [number, number], rows: readonly [number, number], columns: ProductColumns = allColumns(p.n)): KernelCall[] {
  const calls: KernelCall[] = [];
  appendProductCalls(calls, tiles, p, batches[0], batches[1], rows[0], rows[1], columns);
  return calls;
}

/**
 * productCalls' calls appended to `calls`, in plain loops: every product's chunks are built anew on
 * each call (their heap offsets change), and the destructured tuples, iterators and spreads this
 * was written with took 24 µs of JavaScript to build one job of the Transformer block's
 * [128, 256]·[256, 1024] product (8 chunks of 4 calls), 0.25 ms of its 4.2 ms forward pass at batch 1.
 */
function appendProductCalls(calls: KernelCall[], tiles: ProductTiles, p: BatchedProduct, firstBatch: number, endBatch: number, firstRow: number, endRow: number, columns: ProductColumns): void {
  const { m, k, n } = p;
  const panels = Math.floor(n / PANEL_COLUMNS);
  const firstPanel = columns.panels[0];
  const endPanel = columns.panels[1];
  const narrowBlocks = Math.floor((n - panels * PANEL_COLUMNS) / 4);
  const covered = panels * PANEL_COLUMNS + narrowBlocks * 4;
  const rows = endRow - firstRow;
  const pairs = Math.floor(rows / PAIR_ROWS);
  const leftover = rows - pairs * PAIR_ROWS;
  const aRow = 4 * k;
  const bRow = 4 * n;
  const cRow = 4 * n;
  const aBatchBytes = p.aBatchBytes ?? m * aRow;
  const cBatchBytes = p.cBatchBytes ?? m * cRow;
  const panelsPerBlock = COLUMN_BLOCK / PANEL_COLUMNS;
  const packed = p.packed !== undefined;
  // Whole row pairs in the pair tiles, then a last odd row in the one-row tiles.
  const rowRuns = [
    { wide: tiles.wide, narrow: tiles.narrow, row: 0, groups: pairs },
    { wide: tiles.wideRow, narrow: tiles.narrowRow, row: pairs * PAIR_ROWS, groups: leftover },
  ];
  for (let batch = firstBatch; batch < endBatch; batch++) {
    const aAt = p.a + batch * aBatchBytes + firstRow * aRow;
    const bAt = p.b + batch * k * bRow;
    const cAt = p.c + batch * cBatchBytes + firstRow * cRow;
    const packedAt = packed ? p.packed! + 4 * batch * panels * k * PANEL_COLUMNS : 0;
    for (const { wide, narrow, row, groups } of rowRuns) {
      if (groups === 0) continue;
      const aFirst = aAt + row * aRow;
      const cFirst = cAt + row * cRow;
      for (let panel = firstPanel; panel < endPanel; panel += panelsPerBlock) {
        const blocks = Math.min(panelsPerBlock, endPanel - panel);
        for (let depth = 0; depth < k; depth += DEPTH_BLOCK) {
          const steps = Math.min(DEPTH_BLOCK, k - depth);
          const bFirst = packed ? packedAt + 4 * (panel * k + depth) * PANEL_COLUMNS : bAt + 4 * panel * PANEL_COLUMNS + depth * bRow;
          const bRowBytes = packed ? 4 * PANEL_COLUMNS : bRow;
          const bBlockBytes = packed ? 4 * k * PANEL_COLUMNS : 4 * PANEL_COLUMNS;
          calls.push({ fn: wide, args: [aFirst + 4 * depth, bFirst, cFirst + 4 * panel * PANEL_COLUMNS, steps, aRow, bRowBytes, cRow, blocks, groups, bBlockBytes, depth > 0 ? 1 : 0] });
        }
      }
    }
    if (!columns.edge) continue;
    const column = 4 * panels * PANEL_COLUMNS;
    for (const { narrow, row, groups } of rowRuns) {
      if (groups === 0) continue;
      const aFirst = aAt + row * aRow;
      const cFirst = cAt + row * cRow;
      if (narrowBlocks > 0) calls.push({ fn: narrow, args: [aFirst, bAt + column, cFirst + column, k, aRow, bRow, cRow, narrowBlocks, groups, 16, 0] });
      if (covered < n) calls.push({ fn: narrow, args: [aFirst, bAt + 4 * (n - 4), cFirst + 4 * (n - 4), k, aRow, bRow, cRow, 1, groups, 16, 0] });
    }
  }
}

/** Splits [0, count) into `parts` runs, as even as whole multiples of `unit` allow (the last ends at count); empty runs left out. */
export function evenRuns(count: number, parts: number, unit = 1): Array<[number, number]> {
  const units = Math.ceil(count / unit);
  const runs: Array<[number, number]> = [];
  for (let t = 0; t < parts; t++) {
    const [first, end] = [Math.floor((t * units) / parts) * unit, Math.min(count, Math.floor(((t + 1) * units) / parts) * unit)];
    if (end > first) runs.push([first, end]);
  }
  return runs;
}

/** Chunks a job of `macs` multiply-adds is cut into: one below PARALLEL_FROM_MACS or on one thread. */
function chunkCount(threads: KernelThreads, macs: number): number {
  return macs < PARALLEL_FROM_MACS || threads.count === 1 ? 1 : threads.count * CHUNKS_PER_THREAD;
}

/**
 * b's 16-column panels (every whole one of every batch) written at byte `packed` (packedBytes of
 * room), cut into chunks by batches or by panels: what batchedProduct does first with `packed`,
 * for an operand kept packed across calls (`prepacked`).
 */
export function packRightOperand(threads: KernelThreads, tiles: ProductTiles, p: Pick<BatchedProduct, 'b' | 'batches' | 'm' | 'k' | 'n'>, packed: number): void {
  const chunks = chunkCount(threads, p.batches * p.m * p.k * p.n);
  const panels = Math.floor(p.n / PANEL_COLUMNS);
  const whole = { ...p, a: 0, c: 0 };
  threads.run(
    p.batches >= chunks
      ? evenRuns(p.batches, chunks).map((batches) => packCalls(tiles, whole, packed, batches, [0, panels]))
      : evenRuns(panels, chunks).map((run) => packCalls(tiles, whole, packed, [0, p.batches], run)),
  );
}

/** Calls a chunk runs after its part of a product, on the rows it has just written (a bias and a clamp: bias-clamp.ts): batches [first, end), rows [first, end) of each. */
export type ProductEpilogue = (batches: [number, number], rows: [number, number], columns: [number, number]) => KernelCall[];

/** The columns a chunk computes: whole 16-column panels [first, end), and with `edge` the columns past the last whole panel. */
export interface ProductColumns {
  panels: [number, number];
  edge: boolean;
}

function allColumns(n: number): ProductColumns {
  return { panels: [0, Math.floor(n / PANEL_COLUMNS)], edge: true };
}

/** A chunk's columns as [first, end) column indices. */
function columnRange(columns: ProductColumns, n: number): [number, number] {
  return [columns.panels[0] * PANEL_COLUMNS, columns.edge ? n : columns.panels[1] * PANEL_COLUMNS];
}

/**
 * c = a·b, cut into chunks for `threads`: by batches where there are at least as many as chunks
 * wanted, else by runs of rows (whole pairs) in every batch. Each element is computed by one
 * thread, the same way whatever the cut, so the result does not depend on the threads. With
 * `p.packed`, b's panels are packed: by each chunk for its own batches where the cut is by
 * batches, else first, cut by batches or by panels (packRightOperand). An
 * `epilogue` runs in each chunk after its product, while its rows are in the thread's cache.
 */
export function batchedProduct(threads: KernelThreads, tiles: ProductTiles, p: BatchedProduct, epilogue?: ProductEpilogue): void {
  if (p.n < 4 || p.k < 1) throw new RangeError(`the SIMD product needs n >= 4 and k >= 1, not n = ${p.n}, k = ${p.k}`);
  const chunks = chunkCount(threads, p.batches * p.m * p.k * p.n);
  const panels = Math.floor(p.n / PANEL_COLUMNS);
  // Cut by batches, each chunk packs its own batches' panels just before their products, while
  // they stay in its core's cache (one job where there were two: attention's 128 products of
  // [128, 64]·[64, 128] at batch 32, 3.48 → 3.32 ms, and of [128, 128]·[128, 64], 3.65 → 3.53 ms,
  // alternating blocks in one process); cut otherwise, every chunk reads every panel: packed first.
  const packInChunks = p.packed !== undefined && !p.prepacked && p.batches >= chunks;
  if (p.packed !== undefined && !p.prepacked && !packInChunks) packRightOperand(threads, tiles, p, p.packed);
  // Batch by batch and block of rows by block of rows, each block's product and then its epilogue, while its rows are in the cache.
  const chunk = (batches: [number, number], rows: [number, number], columns = allColumns(p.n)) => {
    const calls: KernelCall[] = [];
    const columnsCut = epilogue ? columnRange(columns, p.n) : undefined;
    const blocks = rowBlocks(rows, p.k);
    for (let batch = batches[0]; batch < batches[1]; batch++) {
      if (packInChunks) for (const call of packCalls(tiles, p, p.packed!, [batch, batch + 1], [0, panels])) calls.push(call);
      for (const block of blocks) {
        appendProductCalls(calls, tiles, p, batch, batch + 1, block[0], block[1], columns);
        if (epilogue) for (const call of epilogue([batch, batch + 1], block, columnsCut!)) calls.push(call);
      }
    }
    return calls;
  };
  if (p.batches >= chunks) threads.run(evenRuns(p.batches, chunks).map((batches) => chunk(batches, [0, p.m])));
  else if (cutByColumns(p, chunks)) {
    const runs = evenRuns(panels, chunks);
    threads.run(runs.map((run, i) => chunk([0, p.batches], [0, p.m], { panels: run, edge: i === runs.length - 1 })));
  } else threads.run(evenRuns(p.m, chunks, PAIR_ROWS).map((rows) => chunk([0, p.batches], rows)));
}

/**
 * Bytes of a's rows, over one depth block, that one call's row groups read at most (rowBlocks):
 * every panel of a call passes over all of its rows, so rows past what the second-level cache
 * holds came from memory once per panel. A quarter of the 1 MB second-level cache of AMD's EPYCs
 * (2 MB a core on Intel's Xeons), beside the b block (256 KB) and the rows of c being written.
 */
export const ROW_BLOCK_BYTES = 256 * 1024;

/**
 * Rows [first, end) cut into blocks of whole row pairs whose rows of a, over one depth block, are
 * ROW_BLOCK_BYTES at most (the last block ends at `end`). Measured on ResNet50's pointwise
 * convolutions at batch 32, where a chunk was 12,544 rows of up to 256 floats (12.8 MB):
 * [100352, 256]·[256, 64] ran at 26 billion multiply-adds a second and [100352, 64]·[64, 256] at
 * 32, against 42 for [6272, 256]·[256, 1024], whose chunks fit the cache.
 */
export function rowBlocks([first, end]: [number, number], k: number): Array<[number, number]> {
  const rows = Math.max(PAIR_ROWS, PAIR_ROWS * Math.floor(ROW_BLOCK_BYTES / (4 * Math.min(k, DEPTH_BLOCK) * PAIR_ROWS)));
  const blocks: Array<[number, number]> = [];
  for (let row = first; row < end; row += rows) blocks.push([row, Math.min(end, row + rows)]);
  return blocks;
}

/**
 * Whether a product's chunks take runs of b's panels (every row of a each) instead of runs of a's
 * rows (every column of b each): where b is the larger operand, past what a second-level cache
 * keeps (COLUMN_CUT_FROM_BYTES), and has a panel for every chunk, or for at least MIN_COLUMN_CHUNKS
 * (then one chunk a panel). Each chunk reads its whole share
 * of the other operand, so a cut by rows reads b once per chunk. Measured on ResNet50's pointwise
 * convolutions at batch 1 (medians of 40, alternating processes): [49, 512]·[512, 2048] (4 MB of b)
 * 1.81-2.11 → 1.43-1.59 ms, [49, 2048]·[2048, 512] 1.57-1.82 → 1.27-1.35; with 1 MB of b, kept in
 * the cache between chunks, [196, 1024]·[1024, 256] 1.18 → 1.21-1.33 and [196, 256]·[256, 1024]
 * 1.64-1.75 → 1.77-1.89: cut by rows. Fewer panels than chunks: a weight's gradient xᵀ·dy over
 * many pixels, [16, 401408]·[401408, 96] (MobileNetV2's first 1x1 convolution at batch 32, 6
 * panels), where 8 chunks by rows read b's 154 MB 8 times over: in that model's forward+backward
 * pass, 73-76 → 47-50 ms.
 */
export function cutByColumns(p: BatchedProduct, chunks: number): boolean {
  return p.n > p.m && 4 * p.k * p.n > COLUMN_CUT_FROM_BYTES && Math.floor(p.n / PANEL_COLUMNS) >= Math.min(chunks, MIN_COLUMN_CHUNKS);
}

/** Chunks a product cut by columns takes at the least (cutByColumns): one a thread on two cores. */
const MIN_COLUMN_CHUNKS = 2;
