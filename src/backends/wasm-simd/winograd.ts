import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/**
 * Winograd's minimal filtering F(2x2, 3x3) for a 3x3 convolution of stride 1 (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2015): each 2x2 block of outputs from the
 * 4x4 block of inputs under it, as 16 products where direct convolution takes 36. In matrices,
 * Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, with
 *
 *   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 -1 -1]
 *
 * (a cross-correlation, as TensorFlow's Conv2D is). Summed over the input channels, the 16
 * elementwise products of each tile become 16 matrix products [tiles, in]·[in, out], which run in
 * the product tiles (product-tiles.ts). The kernels here are the transforms, NHWC with the channels
 * in vectors of 4: every transform is adds and subtracts of whole vectors.
 */

/** The 16 transformed positions, in the order the matrices are laid out: ξ·4 + ν. */
export const WINOGRAD_POSITIONS = 16;

/**
 * `winogradInputRow(x, v, tiles, groups, pixelBytes, rowBytes, matrixBytes)`: Bᵀ d B for `tiles`
 * tiles side by side, 2 pixels apart, the first 4x4 block of input at byte `x` (its rows `rowBytes`
 * apart, its pixels `pixelBytes`, each `groups` vectors of 4 channels), written to the 16 matrices
 * at `v` (`matrixBytes` apart), one row of each per tile (`pixelBytes` long).
 */
export function winogradInputRowFunction(): WasmFunction {
  return tileRowFunction('winogradInputRow', 4 + 16, (group, { inAt, at, pixel, row, matrix, vectors }) => {
    const d = vectors.slice(0, 4);
    const tAt = (i: number, j: number) => vectors[4 + 4 * i + j]!;
    // Bᵀ d, column by column.
    for (let j = 0; j < 4; j++) {
      group.get(inAt);
      if (j > 0) group.get(pixel).i32(j).i32Mul().i32Add();
      group.set(at);
      for (let i = 0; i < 4; i++) {
        if (i > 0) group.get(at).get(row).i32Add().set(at);
        group.get(at).v128Load().set(d[i]!);
      }
      group.get(d[0]!).get(d[2]!).f32x4Sub().set(tAt(0, j));
      group.get(d[1]!).get(d[2]!).f32x4Add().set(tAt(1, j));
      group.get(d[2]!).get(d[1]!).f32x4Sub().set(tAt(2, j));
      group.get(d[1]!).get(d[3]!).f32x4Sub().set(tAt(3, j));
    }
    // (Bᵀ d) B, row by row, each result to its matrix (`at` starts at the first).
    return (store) => {
      for (let i = 0; i < 4; i++) {
        const rowTransform: Array<[number, number, 'add' | 'sub']> = [
          [tAt(i, 0), tAt(i, 2), 'sub'],
          [tAt(i, 1), tAt(i, 2), 'add'],
          [tAt(i, 2), tAt(i, 1), 'sub'],
          [tAt(i, 1), tAt(i, 3), 'sub'],
        ];
        for (const [p, q, op] of rowTransform) store(() => (op === 'add' ? group.get(p).get(q).f32x4Add() : group.get(p).get(q).f32x4Sub()));
      }
    };
  });
}

/** The locals a tile-row transform's body works with (tileRowFunction). */
interface TileRowLocals {
  /** This vector group's first input byte, and its first output byte (in the first matrix). */
  inAt: number;
  outAt: number;
  /** A free i32 local. */
  at: number;
  pixel: number;
  row: number;
  matrix: number;
  /** The body's own v128 locals. */
  vectors: number[];
}

/**
 * `name(input, output, tiles, groups, pixelBytes, rowBytes, matrixBytes)`: the loops the input and
 * dy transforms share: `tiles` tiles side by side, the input 2 pixels further for each, the output
 * one row of each of the 16 matrices further (`pixelBytes`); within a tile `groups` vectors of 4
 * channels, 16 bytes apart on both sides. `body` loads and transforms one group, then returns how
 * it writes its 16 results: given `store`, it pushes each result in matrix order, which `store`
 * writes and steps to the next matrix.
 */
function tileRowFunction(name: string, vectorCount: number, body: (group: Code, locals: TileRowLocals) => (store: (result: () => void) => void) => void): WasmFunction {
  const [input, output, tiles, groups, pixel, row, matrix] = [0, 1, 2, 3, 4, 5, 6];
  let next = 7;
  const [inAt, outAt, left, at] = [next++, next++, next++, next++];
  const i32Locals = next - 7;
  const vectors = Array.from({ length: vectorCount }, () => next++);
  const code = new Code().loop((tile) => {
    tile.get(input).set(inAt).get(output).set(outAt).get(groups).set(left);
    tile.loop((group) => {
      const writeResults = body(group, { inAt, outAt, at, pixel, row, matrix, vectors });
      group.get(outAt).set(at);
      writeResults((result) => {
        group.get(at);
        result();
        group.v128Store();
        group.get(at).get(matrix).i32Add().set(at);
      });
      group.get(inAt).i32(16).i32Add().set(inAt);
      group.get(outAt).i32(16).i32Add().set(outAt);
      group.get(left).i32(1).i32Sub().tee(left).brIf(0);
    });
    tile.get(input).get(pixel).i32(2).i32Mul().i32Add().set(input);
    tile.get(output).get(pixel).i32Add().set(output);
    tile.get(tiles).i32(1).i32Sub().tee(tiles).brIf(0);
  });
  const locals: ValueType[] = [...Array.from({ length: i32Locals }, (): ValueType => I32), ...vectors.map((): ValueType => V128)];
  return { name, params: Array.from({ length: 7 }, (): ValueType => I32), locals, body: code };
}

export type WinogradInputRow = (x: number, v: number, tiles: number, groups: number, pixelBytes: number, rowBytes: number, matrixBytes: number) => void;

/**
 * `winogradFilter(g, u, vectors, matrixBytes)`: G g Gᵀ of an HWIO 3x3 filter at byte `g`, its 9
 * taps `matrixBytes` apart (in·out float32 each), `vectors` vectors of 4 of them, written to the 16
 * matrices at `u`, `matrixBytes` apart (each [in, out], as the taps are). The halves are exact.
 */
export function winogradFilterFunction(): WasmFunction {
  const [g, u, vectors, matrix] = [0, 1, 2, 3];
  let next = 4;
  const at = next++;
  const taps = Array.from({ length: 9 }, () => next++);
  const t = Array.from({ length: 12 }, () => next++);
  const half = next++;
  const tap = (kh: number, kw: number) => taps[3 * kh + kw]!;
  const tAt = (i: number, kw: number) => t[3 * i + kw]!;
  /** The four rows of G·(p, q, r) onto the stack in turn, each passed to `use`. */
  const transform = (code: Code, [p, q, r]: [number, number, number], use: (row: number, write: () => void) => void) => {
    use(0, () => code.get(p));
    use(1, () => code.get(p).get(q).f32x4Add().get(r).f32x4Add().get(half).f32x4Mul());
    use(2, () => code.get(p).get(q).f32x4Sub().get(r).f32x4Add().get(half).f32x4Mul());
    use(3, () => code.get(r));
  };
  const body = new Code().f32x4Const(0.5).set(half).loop((vector) => {
    vector.get(g).set(at);
    for (let k = 0; k < 9; k++) {
      if (k > 0) vector.get(at).get(matrix).i32Add().set(at);
      vector.get(at).v128Load().set(taps[k]!);
    }
    // G g: over the rows (kh), for each column.
    for (let kw = 0; kw < 3; kw++) transform(vector, [tap(0, kw), tap(1, kw), tap(2, kw)], (i, write) => {
      write();
      vector.set(tAt(i, kw));
    });
    // (G g) Gᵀ: over the columns, each result to its matrix.
    vector.get(u).set(at);
    for (let i = 0; i < 4; i++) {
      transform(vector, [tAt(i, 0), tAt(i, 1), tAt(i, 2)], (_, write) => {
        vector.get(at);
        write();
        vector.v128Store();
        vector.get(at).get(matrix).i32Add().set(at);
      });
    }
    vector.get(g).i32(16).i32Add().set(g);
    vector.get(u).i32(16).i32Add().set(u);
    vector.get(vectors).i32(1).i32Sub().tee(vectors).brIf(0);
  });
  const locals: ValueType[] = [I32, ...Array.from({ length: taps.length + t.length + 1 }, (): ValueType => V128)];
  return { name: 'winogradFilter', params: [I32, I32, I32, I32], locals, body };
}

export type WinogradFilter = (g: number, u: number, vectors: number, matrixBytes: number) => void;

/**
 * `winogradOutputRow(m, y, tiles, groups, matrixBytes, pixelBytes, yRowBytes, bias, rows,
 * lastColumns, low, high)`: Aᵀ m A for `tiles` tiles side by side, each from one row (`pixelBytes`
 * long, `groups` vectors of 4 channels) of the 16 matrices at `m` (`matrixBytes` apart), plus the
 * bias vector at `bias` (zeros for none), clamped to [low, high] (float32 bits: ±Infinity for no
 * activation, 0 and Infinity for relu, 0 and 6 for relu6; NaN stays NaN), written as 2x2 pixels at
 * `y` (rows `yRowBytes` apart). Only the first `rows` rows (1 or 2) are written, and of the last
 * tile only `lastColumns` columns: the edge of an output of odd size.
 */
export function winogradOutputRowFunction(): WasmFunction {
  const [m, y, tiles, groups, matrix, pixel, yRow, bias, rows, lastColumns, low, high] = Array.from({ length: 12 }, (_, i) => i);
  let next = 12;
  const [mAt, yAt, biasAt, left, columns, at] = [next++, next++, next++, next++, next++, next++];
  const i32Locals = next - 12;
  const [lowV, highV, biasV] = [next++, next++, next++];
  const column = Array.from({ length: 4 }, () => next++);
  const s = Array.from({ length: 8 }, () => next++);
  const sAt = (i: number, j: number) => s[4 * i + j]!;
  const out = next++;
  const body = new Code().get(low).i32x4Splat().set(lowV).get(high).i32x4Splat().set(highV);
  /** One output vector: (p ± q ± r) + bias, clamped, into `out`. */
  const pixelValue = (code: Code, i: number, first: boolean) => {
    if (first) code.get(sAt(i, 0)).get(sAt(i, 1)).f32x4Add().get(sAt(i, 2)).f32x4Add();
    else code.get(sAt(i, 1)).get(sAt(i, 2)).f32x4Sub().get(sAt(i, 3)).f32x4Sub();
    code.get(biasV).f32x4Add().get(lowV).f32x4Max().get(highV).f32x4Min().set(out);
  };
  body.loop((tile) => {
    // The last tile writes lastColumns columns, every other tile two.
    tile.get(lastColumns).i32(2).get(tiles).i32(1).i32Eq().select().set(columns);
    tile.get(m).set(mAt).get(y).set(yAt).get(bias).set(biasAt).get(groups).set(left);
    tile.loop((group) => {
      // Aᵀ m, column by column.
      for (let j = 0; j < 4; j++) {
        group.get(mAt);
        if (j > 0) group.get(matrix).i32(j).i32Mul().i32Add();
        group.set(at);
        for (let i = 0; i < 4; i++) {
          if (i > 0) group.get(at).get(matrix).i32(4).i32Mul().i32Add().set(at);
          group.get(at).v128Load().set(column[i]!);
        }
        group.get(column[0]!).get(column[1]!).f32x4Add().get(column[2]!).f32x4Add().set(sAt(0, j));
        group.get(column[1]!).get(column[2]!).f32x4Sub().get(column[3]!).f32x4Sub().set(sAt(1, j));
      }
      group.get(biasAt).v128Load().set(biasV);
      // (Aᵀ m) A, pixel by pixel, the ones past the output's edge left out.
      pixelValue(group, 0, true);
      group.get(yAt).get(out).v128Store();
      group.block((second) => {
        second.get(columns).i32(2).i32Sub().brIf(0);
        pixelValue(second, 0, false);
        second.get(yAt).get(pixel).i32Add().get(out).v128Store();
      });
      group.block((lower) => {
        lower.get(rows).i32(2).i32Sub().brIf(0);
        pixelValue(lower, 1, true);
        lower.get(yAt).get(yRow).i32Add().get(out).v128Store();
        lower.get(columns).i32(2).i32Sub().brIf(0);
        pixelValue(lower, 1, false);
        lower.get(yAt).get(yRow).i32Add().get(pixel).i32Add().get(out).v128Store();
      });
      group.get(mAt).i32(16).i32Add().set(mAt);
      group.get(yAt).i32(16).i32Add().set(yAt);
      group.get(biasAt).i32(16).i32Add().set(biasAt);
      group.get(left).i32(1).i32Sub().tee(left).brIf(0);
    });
    tile.get(m).get(pixel).i32Add().set(m);
    tile.get(y).get(pixel).i32(2).i32Mul().i32Add().set(y);
    tile.get(tiles).i32(1).i32Sub().tee(tiles).brIf(0);
  });
  const locals: ValueType[] = [...Array.from({ length: i32Locals }, (): ValueType => I32), ...Array.from({ length: 3 + column.length + s.length + 1 }, (): ValueType => V128)];
  return { name: 'winogradOutputRow', params: Array.from({ length: 12 }, (): ValueType => I32), locals, body };
}

export type WinogradOutputRow = (m: number, y: number, tiles: number, groups: number, matrixBytes: number, pixelBytes: number, yRowBytes: number, bias: number, rows: number, lastColumns: number, low: number, high: number) => void;

/**
 * `winogradGradientRow(dy, u, tiles, groups, pixelBytes, rowBytes, matrixBytes)`: for a filter's
 * gradient, A e Aᵀ of the 2x2 blocks e of dy for `tiles` tiles side by side (the first at byte
 * `dy`, its rows `rowBytes` apart, its pixels `pixelBytes`, each `groups` vectors of 4 channels),
 * written to the 16 matrices at `u` (`matrixBytes` apart), one row of each per tile. A = Aᵀ's
 * transpose, [1 0; 1 1; 1 -1; 0 -1]: the adjoint of the output transform.
 */
export function winogradGradientRowFunction(): WasmFunction {
  return tileRowFunction('winogradGradientRow', 4 + 8, (group, { inAt, pixel, row, vectors }) => {
    const e = vectors.slice(0, 4);
    const tAt = (i: number, j: number) => vectors[4 + 2 * i + j]!;
    /** The four rows of A·(p, q) onto the stack in turn: p, p + q, p - q, -q. */
    const rows = (p: number, q: number, use: (write: () => void) => void) => {
      use(() => group.get(p));
      use(() => group.get(p).get(q).f32x4Add());
      use(() => group.get(p).get(q).f32x4Sub());
      use(() => group.v128Zero().get(q).f32x4Sub());
    };
    group.get(inAt).v128Load().set(e[0]!);
    group.get(inAt).get(pixel).i32Add().v128Load().set(e[1]!);
    group.get(inAt).get(row).i32Add().v128Load().set(e[2]!);
    group.get(inAt).get(row).i32Add().get(pixel).i32Add().v128Load().set(e[3]!);
    // A e: the rows of each column.
    for (let j = 0; j < 2; j++) {
      let i = 0;
      rows(e[j]!, e[2 + j]!, (write) => {
        write();
        group.set(tAt(i++, j));
      });
    }
    // (A e) Aᵀ: the columns of each row, each result to its matrix.
    return (store) => {
      for (let i = 0; i < 4; i++) rows(tAt(i, 0), tAt(i, 1), store);
    };
  });
}

export type WinogradGradientRow = WinogradInputRow;

/**
 * `winogradFilterGradient(m, dw, vectors, matrixBytes)`: Gᵀ M G of the 16 matrices at `m`
 * (`matrixBytes` apart, [in, out] each, the sums over tiles of V ⊙ (A e Aᵀ)), written as the 9
 * taps of an HWIO 3x3 filter's gradient at `dw`, `matrixBytes` apart; `vectors` vectors of 4 of
 * each. Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1], the adjoint of the filter transform.
 */
export function winogradFilterGradientFunction(): WasmFunction {
  const [m, dw, vectors, matrix] = [0, 1, 2, 3];
  let next = 4;
  const at = next++;
  const ms = Array.from({ length: 16 }, () => next++);
  const t = Array.from({ length: 12 }, () => next++);
  const half = next++;
  const mAt = (i: number, j: number) => ms[4 * i + j]!;
  const tAt = (i: number, j: number) => t[4 * i + j]!;
  /** The three rows of Gᵀ·(p, q, r, s) onto the stack in turn: p + ½(q + r), ½(q - r), ½(q + r) + s. */
  const rows = (code: Code, [p, q, r, s]: [number, number, number, number], use: (write: () => void) => void) => {
    use(() => code.get(p).get(q).get(r).f32x4Add().get(half).f32x4Mul().f32x4Add());
    use(() => code.get(q).get(r).f32x4Sub().get(half).f32x4Mul());
    use(() => code.get(q).get(r).f32x4Add().get(half).f32x4Mul().get(s).f32x4Add());
  };
  const body = new Code().f32x4Const(0.5).set(half).loop((vector) => {
    vector.get(m).set(at);
    for (let k = 0; k < 16; k++) {
      if (k > 0) vector.get(at).get(matrix).i32Add().set(at);
      vector.get(at).v128Load().set(ms[k]!);
    }
    // Gᵀ M: the rows of each column.
    for (let j = 0; j < 4; j++) {
      let i = 0;
      rows(vector, [mAt(0, j), mAt(1, j), mAt(2, j), mAt(3, j)], (write) => {
        write();
        vector.set(tAt(i++, j));
      });
    }
    // (Gᵀ M) G: the columns of each row, each tap to its place.
    vector.get(dw).set(at);
    for (let i = 0; i < 3; i++) {
      rows(vector, [tAt(i, 0), tAt(i, 1), tAt(i, 2), tAt(i, 3)], (write) => {
        vector.get(at);
        write();
        vector.v128Store();
        vector.get(at).get(matrix).i32Add().set(at);
      });
    }
    vector.get(m).i32(16).i32Add().set(m);
    vector.get(dw).i32(16).i32Add().set(dw);
    vector.get(vectors).i32(1).i32Sub().tee(vectors).brIf(0);
  });
  const locals: ValueType[] = [I32, ...Array.from({ length: ms.length + t.length + 1 }, (): ValueType => V128)];
  return { name: 'winogradFilterGradient', params: [I32, I32, I32, I32], locals, body };
}

export type WinogradFilterGradient = WinogradFilter;

export function winogradFunctions(): WasmFunction[] {
  return [winogradInputRowFunction(), winogradFilterFunction(), winogradOutputRowFunction(), winogradGradientRowFunction(), winogradFilterGradientFunction()];
}
