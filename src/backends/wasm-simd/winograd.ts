import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';
import { transposed, WINOGRAD_SCHEMES, type WinogradScheme } from './winograd-schemes.js';

/**
 * The transforms of Winograd's F(m x m, 3x3) (winograd-schemes.ts) as wasm SIMD functions, one set
 * per scheme, generated from its matrices: NHWC with the channels in vectors of 4, so every
 * transform is a few adds, subtracts and multiplies by constants of whole vectors. Summed over the
 * input channels, the (m + 2)² elementwise products of each tile become (m + 2)² matrix products
 * [tiles, in]·[in, out], which run in the product tiles (product-tiles.ts). Each transform is
 * P X Pᵀ of a block X: P·X column by column, then each row of that times Pᵀ.
 */

/**
 * Onto the stack: Σ c_k·v_k over the non-zero coefficients, `push(k)` pushing v_k. Where the
 * coefficients are whole multiples of the smallest one (G's rows: ⅓(p + q + r), (4p + 2q + r)·
 * (-4/15)) the whole multiples are summed first and scaled once: fewer roundings. Terms in index
 * order, a positive one first (no negation); x2 as v + v (exact).
 */
export function pushCombination(code: Code, coefficients: readonly number[], push: (k: number) => void): void {
  const terms = coefficients.flatMap((c, k) => (c === 0 ? [] : [{ c, k }]));
  if (terms.length === 0) {
    code.v128Zero();
    return;
  }
  const smallest = Math.min(...terms.map(({ c }) => Math.abs(c)));
  const multiples = terms.map(({ c }) => c / smallest);
  const whole = multiples.every((q) => Math.abs(q - Math.round(q)) < 1e-9);
  let scale = whole ? smallest : 1;
  let weights = whole ? multiples.map(Math.round) : terms.map(({ c }) => c);
  if (weights.every((w) => w < 0)) {
    weights = weights.map((w) => -w);
    scale = -scale;
  }
  const pushWeighted = (k: number, weight: number) => {
    push(k);
    if (weight === 2) {
      push(k);
      code.f32x4Add();
    } else if (weight !== 1) code.f32x4Const(weight).f32x4Mul();
  };
  const first = weights.findIndex((w) => w > 0);
  pushWeighted(terms[first]!.k, weights[first]!);
  terms.forEach(({ k }, index) => {
    if (index === first) return;
    const w = weights[index]!;
    pushWeighted(k, Math.abs(w));
    if (w > 0) code.f32x4Add();
    else code.f32x4Sub();
  });
  if (scale === -1) code.f32x4Neg();
  else if (scale !== 1) code.f32x4Const(scale).f32x4Mul();
}

/**
 * The first half of P X Pᵀ for a q x q block X (q = P's columns): column by column, `load(k, j)`
 * pushes X[k][j] (called in that order: j, then k), kept in `column`, and P·X's column j goes to
 * t[i·q + j].
 */
function leftProduct(code: Code, p: readonly (readonly number[])[], column: readonly number[], t: readonly number[], load: (k: number, j: number) => void): void {
  const q = column.length;
  for (let j = 0; j < q; j++) {
    for (let k = 0; k < q; k++) {
      load(k, j);
      code.set(column[k]!);
    }
    p.forEach((row, i) => {
      pushCombination(code, row, (k) => code.get(column[k]!));
      code.set(t[i * q + j]!);
    });
  }
}

/** Onto the stack: (P X Pᵀ)[i][l] = Σ_k P[l][k]·t[i][k] from leftProduct's t. */
function pushResult(code: Code, p: readonly (readonly number[])[], t: readonly number[], i: number, l: number): void {
  const q = p[0]!.length;
  pushCombination(code, p[l]!, (k) => code.get(t[i * q + k]!));
}

/** Stores P X Pᵀ's results (leftProduct's t) in row-major order, each `matrix` bytes after the one before, from the byte in local `at` (which moves on). */
function storeResults(code: Code, p: readonly (readonly number[])[], t: readonly number[], at: number, matrix: number): void {
  for (let i = 0; i < p.length; i++)
    for (let l = 0; l < p.length; l++) {
      code.get(at);
      pushResult(code, p, t, i, l);
      code.v128Store();
      code.get(at).get(matrix).i32Add().set(at);
    }
}

/** Pushes the vector at local `base` + `index` · local `matrix` bytes: a block's entry among matrices. */
function pushMatrixVector(code: Code, base: number, matrix: number, index: number): void {
  code.get(base);
  if (index > 0) code.get(matrix).i32(index).i32Mul().i32Add();
  code.v128Load();
}

/** The locals a tile-row transform's body works with (tileRowFunction). */
interface TileRowLocals {
  /** This vector group's first input byte. */
  inAt: number;
  /** A free i32 local. */
  at: number;
  pixel: number;
  row: number;
}

/**
 * `name(input, output, tiles, groups, pixelBytes, rowBytes, matrixBytes)`: `p` X pᵀ of the q x q
 * blocks X of an NHWC image (pixels `pixelBytes` apart, rows `rowBytes`) for `tiles` tiles side by
 * side, the input `step` pixels further for each, the output one row of each of the (p's rows)²
 * matrices further (`pixelBytes`); within a tile `groups` vectors of 4 channels, 16 bytes apart on
 * both sides. The results go to the matrices at `output` (`matrixBytes` apart) in row-major order.
 */
function tileRowFunction(name: string, p: readonly (readonly number[])[], step: number): WasmFunction {
  const [input, output, tiles, groups, pixel, row, matrix] = [0, 1, 2, 3, 4, 5, 6];
  let next = 7;
  const [inAt, outAt, left, at] = [next++, next++, next++, next++];
  const i32Locals = next - 7;
  const q = p[0]!.length;
  const column = Array.from({ length: q }, () => next++);
  const t = Array.from({ length: p.length * q }, () => next++);
  const locals: TileRowLocals = { inAt, at, pixel, row };
  const code = new Code().loop((tile) => {
    tile.get(input).set(inAt).get(output).set(outAt).get(groups).set(left);
    tile.loop((group) => {
      leftProduct(group, p, column, t, (k, j) => imageLoad(group, locals, k, j));
      group.get(outAt).set(at);
      storeResults(group, p, t, at, matrix);
      group.get(inAt).i32(16).i32Add().set(inAt);
      group.get(outAt).i32(16).i32Add().set(outAt);
      group.get(left).i32(1).i32Sub().tee(left).brIf(0);
    });
    tile.get(input).get(pixel).i32(step).i32Mul().i32Add().set(input);
    tile.get(output).get(pixel).i32Add().set(output);
    tile.get(tiles).i32(1).i32Sub().tee(tiles).brIf(0);
  });
  const localTypes: ValueType[] = [...Array.from({ length: i32Locals }, (): ValueType => I32), ...Array.from({ length: column.length + t.length }, (): ValueType => V128)];
  return { name, params: Array.from({ length: 7 }, (): ValueType => I32), locals: localTypes, body: code };
}

/** Pushes the image's vector at row k, column j of the block at `inAt` (called column by column, rows in order). */
function imageLoad(code: Code, { inAt, at, pixel, row }: TileRowLocals, k: number, j: number): void {
  if (k === 0) {
    code.get(inAt);
    if (j > 0) code.get(pixel).i32(j).i32Mul().i32Add();
    code.set(at);
  } else code.get(at).get(row).i32Add().set(at);
  code.get(at).v128Load();
}

/**
 * `name(from, to, vectors, matrixBytes)`: p X pᵀ of blocks X whose entries are matrices `matrixBytes`
 * apart at `from` (X[k][j] the (k·q + j)-th), `vectors` vectors of 4 of each, written as the
 * (p's rows)² matrices at `to` in row-major order. The filter's transform G g Gᵀ (its 9 taps HWIO)
 * and the filter gradient's Gᵀ M G.
 */
function matricesFunction(name: string, p: readonly (readonly number[])[]): WasmFunction {
  const [from, to, vectors, matrix] = [0, 1, 2, 3];
  let next = 4;
  const at = next++;
  const q = p[0]!.length;
  const column = Array.from({ length: q }, () => next++);
  const t = Array.from({ length: p.length * q }, () => next++);
  const body = new Code().loop((vector) => {
    leftProduct(vector, p, column, t, (k, j) => pushMatrixVector(vector, from, matrix, k * q + j));
    vector.get(to).set(at);
    storeResults(vector, p, t, at, matrix);
    vector.get(from).i32(16).i32Add().set(from);
    vector.get(to).i32(16).i32Add().set(to);
    vector.get(vectors).i32(1).i32Sub().tee(vectors).brIf(0);
  });
  const locals: ValueType[] = [I32, ...Array.from({ length: column.length + t.length }, (): ValueType => V128)];
  return { name, params: [I32, I32, I32, I32], locals, body };
}

/**
 * `winogradOutputRow{id}(m, y, tiles, groups, matrixBytes, pixelBytes, yRowBytes, bias, rows,
 * lastColumns, low, high)`: Aᵀ M A for `tiles` tiles side by side, each from one row (`pixelBytes`
 * long, `groups` vectors of 4 channels) of the scheme's matrices at `m` (`matrixBytes` apart), plus
 * the bias vector at `bias` (zeros for none), clamped to [low, high] (float32 bits: ±Infinity for no
 * activation, 0 and Infinity for relu, 0 and 6 for relu6; NaN stays NaN), written as blocks of
 * pixels at `y` (rows `yRowBytes` apart). Only the first `rows` rows are written, and of the last
 * tile only `lastColumns` columns: the edge of an output whose size the tile does not divide.
 */
function outputRowFunction(scheme: WinogradScheme): WasmFunction {
  const p = scheme.outputTransform;
  const size = scheme.outputTile;
  const [m, y, tiles, groups, matrix, pixel, yRow, bias, rows, lastColumns, low, high] = Array.from({ length: 12 }, (_, i) => i);
  let next = 12;
  const [mAt, yAt, biasAt, left, columns, at] = [next++, next++, next++, next++, next++, next++];
  const i32Locals = next - 12;
  const [lowV, highV, biasV] = [next++, next++, next++];
  const q = scheme.inputTile;
  const column = Array.from({ length: q }, () => next++);
  const t = Array.from({ length: size * q }, () => next++);
  const body = new Code().get(low).i32x4Splat().set(lowV).get(high).i32x4Splat().set(highV);
  body.loop((tile) => {
    // The last tile writes lastColumns columns, every other tile all of them.
    tile.get(lastColumns).i32(size).get(tiles).i32(1).i32Eq().select().set(columns);
    tile.get(m).set(mAt).get(y).set(yAt).get(bias).set(biasAt).get(groups).set(left);
    tile.loop((group) => {
      leftProduct(group, p, column, t, (k, j) => pushMatrixVector(group, mAt, matrix, k * q + j));
      group.get(biasAt).v128Load().set(biasV);
      // (Aᵀ M) A, pixel by pixel, the ones past the output's edge left out.
      for (let i = 0; i < size; i++) {
        group.block((rowBlock) => {
          if (i > 0) rowBlock.get(rows).i32(i + 1).i32LtU().brIf(0);
          rowBlock.get(yAt);
          if (i > 0) rowBlock.get(yRow).i32(i).i32Mul().i32Add();
          rowBlock.set(at);
          for (let l = 0; l < size; l++) {
            if (l > 0) rowBlock.get(columns).i32(l + 1).i32LtU().brIf(0);
            rowBlock.get(at);
            if (l > 0) rowBlock.get(pixel).i32(l).i32Mul().i32Add();
            pushResult(rowBlock, p, t, i, l);
            rowBlock.get(biasV).f32x4Add().get(lowV).f32x4Max().get(highV).f32x4Min().v128Store();
          }
        });
      }
      group.get(mAt).i32(16).i32Add().set(mAt);
      group.get(yAt).i32(16).i32Add().set(yAt);
      group.get(biasAt).i32(16).i32Add().set(biasAt);
      group.get(left).i32(1).i32Sub().tee(left).brIf(0);
    });
    tile.get(m).get(pixel).i32Add().set(m);
    tile.get(y).get(pixel).i32(size).i32Mul().i32Add().set(y);
    tile.get(tiles).i32(1).i32Sub().tee(tiles).brIf(0);
  });
  const locals: ValueType[] = [...Array.from({ length: i32Locals }, (): ValueType => I32), ...Array.from({ length: 3 + column.length + t.length }, (): ValueType => V128)];
  return { name: `winogradOutputRow${scheme.id}`, params: Array.from({ length: 12 }, (): ValueType => I32), locals, body };
}

/**
 * `winogradInputRow{id}(x, v, tiles, groups, pixelBytes, rowBytes, matrixBytes)`: Bᵀ d B for `tiles`
 * tiles side by side, m pixels apart, the first block of input at byte `x` (its rows `rowBytes`
 * apart, its pixels `pixelBytes`, each `groups` vectors of 4 channels), written to the scheme's
 * matrices at `v` (`matrixBytes` apart), one row of each per tile (`pixelBytes` long).
 */
export type WinogradInputRow = (x: number, v: number, tiles: number, groups: number, pixelBytes: number, rowBytes: number, matrixBytes: number) => void;

/** `winogradFilter{id}(g, u, vectors, matrixBytes)`: G g Gᵀ of an HWIO 3x3 filter at byte `g`, its 9 taps `matrixBytes` apart (in·out float32 each), `vectors` vectors of 4 of them, written to the scheme's matrices at `u`, `matrixBytes` apart (each [in, out], as the taps are). */
export type WinogradFilter = (g: number, u: number, vectors: number, matrixBytes: number) => void;

export type WinogradOutputRow = (m: number, y: number, tiles: number, groups: number, matrixBytes: number, pixelBytes: number, yRowBytes: number, bias: number, rows: number, lastColumns: number, low: number, high: number) => void;

/**
 * `winogradGradientRow{id}(dy, u, tiles, groups, pixelBytes, rowBytes, matrixBytes)`: for a filter's
 * gradient, A e Aᵀ of the m x m blocks e of dy for `tiles` tiles side by side (as the input row
 * reads its blocks), written to the scheme's matrices: the adjoint of the output transform.
 */
export type WinogradGradientRow = WinogradInputRow;

/** `winogradFilterGradient{id}(m, dw, vectors, matrixBytes)`: Gᵀ M G of the scheme's matrices at `m` (the sums over tiles of V ⊙ (A e Aᵀ)), written as the 9 taps of an HWIO 3x3 filter's gradient at `dw`: the adjoint of the filter transform. */
export type WinogradFilterGradient = WinogradFilter;

/** The names of a scheme's five functions in the module. */
export function winogradFunctionNames(scheme: WinogradScheme): { inputRow: string; filter: string; outputRow: string; gradientRow: string; filterGradient: string } {
  return {
    inputRow: `winogradInputRow${scheme.id}`,
    filter: `winogradFilter${scheme.id}`,
    outputRow: `winogradOutputRow${scheme.id}`,
    gradientRow: `winogradGradientRow${scheme.id}`,
    filterGradient: `winogradFilterGradient${scheme.id}`,
  };
}

/** A scheme's five transforms. */
export function winogradSchemeFunctions(scheme: WinogradScheme): WasmFunction[] {
  const names = winogradFunctionNames(scheme);
  const filterTransposed = transposed(scheme.filterTransform);
  return [
    tileRowFunction(names.inputRow, scheme.inputTransform, scheme.outputTile),
    matricesFunction(names.filter, scheme.filterTransform),
    outputRowFunction(scheme),
    tileRowFunction(names.gradientRow, transposed(scheme.outputTransform), scheme.outputTile),
    matricesFunction(names.filterGradient, filterTransposed),
  ];
}

export function winogradFunctions(): WasmFunction[] {
  return WINOGRAD_SCHEMES.flatMap(winogradSchemeFunctions);
}
