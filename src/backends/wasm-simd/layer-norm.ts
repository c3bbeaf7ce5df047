import { addBlockColumns, splatLane } from './row-sums.js';
import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/** Which of a layer normalization's weights a kernel applies: gamma (scale) and beta (center). */
export interface LayerNormWeights {
  scale: boolean;
  center: boolean;
}

/**
 * Layer normalization over the last axis as keras-bridge composes it on wasm (layers/keras3/
 * layer-normalization.ts, normalizeAsKeras, with tfMoments), on one row in JavaScript, each
 * operation rounded to float32 in that order: mean = sum / C and variance = sum((x − mean)²) / C,
 * each sum from 0 in column order (tfjs-backend-wasm's Mean along its innermost axis); r =
 * 1 / √(variance + epsilon) (its Rsqrt); inv = r·gamma; shift = (−mean)·inv + beta; out = x·inv +
 * shift. The SIMD kernel below gives the same values.
 */
export function layerNormRow(x: ArrayLike<number>, out: { [i: number]: number }, from: number, columns: number, epsilon: number, gamma?: ArrayLike<number>, beta?: ArrayLike<number>): void {
  const f = Math.fround;
  const { mean, r } = rowStatistics(x, from, columns, epsilon);
  for (let j = 0; j < columns; j++) {
    const inv = gamma ? f(r * gamma[j]!) : r;
    const shift = beta ? f(f(-mean * inv) + beta[j]!) : f(-mean * inv);
    out[from + j] = f(f(x[from + j]! * inv) + shift);
  }
}

/** A row's mean, variance + epsilon and r = 1 / √(variance + epsilon), as layerNormRow computes them (the sums in column order). */
function rowStatistics(x: ArrayLike<number>, from: number, columns: number, epsilon: number): { mean: number; shifted: number; r: number } {
  const f = Math.fround;
  let sum = 0;
  for (let j = 0; j < columns; j++) sum = f(sum + x[from + j]!);
  const mean = f(sum / columns);
  let squares = 0;
  for (let j = 0; j < columns; j++) {
    const deviation = f(x[from + j]! - mean);
    squares = f(squares + f(deviation * deviation));
  }
  const shifted = f(f(squares / columns) + f(epsilon));
  return { mean, shifted, r: f(1 / f(Math.sqrt(shifted))) };
}

export function layerNormRowsName({ scale, center }: LayerNormWeights): string {
  return `layerNormRows${scale ? 'Scaled' : ''}${center ? 'Centered' : ''}`;
}

/**
 * `layerNormRows…(x, out, groups, columns, gamma, beta, epsilonBits)`: layerNormRow for `groups`
 * groups of 4 rows of `columns` float32 (a multiple of 4) at bytes x and out (out may be x), with
 * gamma and beta (`columns` float32 each, at their bytes) where the variant has them, epsilon as
 * float32 bits. A group's four rows sum in the four lanes of one vector (row-sums.ts: the sums in
 * column order); then each row is written from its mean and r splat across a vector.
 */
export function layerNormRowsFunction(weights: LayerNormWeights): WasmFunction {
  const [x, out, groups, columns, gamma, beta, epsilonBits] = [0, 1, 2, 3, 4, 5, 6];
  const [rowBytes, at, left, xAt, outAt, weightAt] = [7, 8, 9, 10, 11, 12];
  const rows = [13, 14, 15, 16];
  const turned = [17, 18, 19, 20];
  const [sum, mean, r, meanSplat, rSplat, inv, count] = [21, 22, 23, 24, 25, 26, 27];
  const body = new Code();
  body.get(columns).i32(2).i32Shl().set(rowBytes);
  /** The four rows' sums of every 4x4 block of the group, in `sum`, each lane a row's in column order. */
  const sumRows = (group: Code) => {
    group.v128Zero().set(sum).i32(0).set(at).get(rowBytes).set(left);
    group.loop((block) => {
      for (let row = 0; row < 4; row++) block.get(x).get(at).i32Add().get(rowBytes).i32(row).i32Mul().i32Add().v128Load().set(rows[row]!);
      addBlockColumns(block, rows, turned, sum);
      block.get(at).i32(16).i32Add().set(at);
      block.get(left).i32(16).i32Sub().tee(left).brIf(0);
    });
  };
  body.loop((group) => {
    group.get(columns).f32ConvertI32U().f32x4Splat().set(count);
    // Mean: the rows' sums over C.
    sumRows(group);
    group.get(sum).get(count).f32x4Div().set(mean);
    // Variance: the rows' sums of (x − mean)² over C.
    group.v128Zero().set(sum).i32(0).set(at).get(rowBytes).set(left);
    group.loop((block) => {
      for (let row = 0; row < 4; row++) {
        block.get(x).get(at).i32Add().get(rowBytes).i32(row).i32Mul().i32Add().v128Load();
        splatLane(block, mean, row).f32x4Sub().set(rows[row]!);
        block.get(rows[row]!).get(rows[row]!).f32x4Mul().set(rows[row]!);
      }
      addBlockColumns(block, rows, turned, sum);
      block.get(at).i32(16).i32Add().set(at);
      block.get(left).i32(16).i32Sub().tee(left).brIf(0);
    });
    // r = 1 / √(variance + epsilon), four rows at once.
    group.f32x4Const(1).get(sum).get(count).f32x4Div().get(epsilonBits).i32x4Splat().f32x4Add().f32x4Sqrt().f32x4Div().set(r);
    for (let row = 0; row < 4; row++) {
      splatLane(group, mean, row).f32x4Neg().set(meanSplat);
      splatLane(group, r, row).set(rSplat);
      group.get(x).get(rowBytes).i32(row).i32Mul().i32Add().set(xAt);
      group.get(out).get(rowBytes).i32(row).i32Mul().i32Add().set(outAt);
      group.i32(0).set(weightAt).get(rowBytes).set(left);
      group.loop((step) => {
        // inv = r·gamma (or r); out = x·inv + ((−mean)·inv + beta).
        if (weights.scale) step.get(rSplat).get(gamma).get(weightAt).i32Add().v128Load().f32x4Mul().set(inv);
        const invLocal = weights.scale ? inv : rSplat;
        step.get(outAt).get(xAt).v128Load().get(invLocal).f32x4Mul();
        step.get(meanSplat).get(invLocal).f32x4Mul();
        if (weights.center) step.get(beta).get(weightAt).i32Add().v128Load().f32x4Add();
        step.f32x4Add().v128Store();
        for (const pointer of [xAt, outAt, weightAt]) step.get(pointer).i32(16).i32Add().set(pointer);
        step.get(left).i32(16).i32Sub().tee(left).brIf(0);
      });
    }
    for (const base of [x, out]) group.get(base).get(rowBytes).i32(4).i32Mul().i32Add().set(base);
    group.get(groups).i32(1).i32Sub().tee(groups).brIf(0);
  });
  const locals: ValueType[] = [...Array.from({ length: 6 }, (): ValueType => I32), ...Array.from({ length: 15 }, (): ValueType => V128)];
  return { name: layerNormRowsName(weights), params: Array.from({ length: 7 }, (): ValueType => I32), locals, body };
}

/** Planes of the per-row statistics layerNormGradientRows writes ([STATISTICS, rows]): mean, variance + epsilon, r, and the sums dnm and dr. */
export const LAYER_NORM_STATISTICS = ['mean', 'shifted variance', 'r', 'dnm', 'dr'] as const;

/**
 * The first part of the gradient of layer normalization with gamma (normalizeAsKeras's operations
 * under tfjs-core's gradients), on one row in JavaScript: the row's mean, variance + epsilon and r
 * as layerNormRow computes them; with inv = r·gamma, dnm = Σ dy·inv (the gradient of −mean through
 * (−mean)·inv) and dr = Σ dinv·gamma, where dinv = dy·x + dy·(−mean) (inv's gradient, x·inv's part
 * first); and s = dinv·r, whose sum over the rows is gamma's gradient. Sums in column order.
 * Writes s at `from` and the five statistics to `statistics[plane][row]`.
 */
export function layerNormGradientRow(x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>, s: { [i: number]: number }, statistics: Array<{ [i: number]: number }>, row: number, columns: number, epsilon: number): void {
  const f = Math.fround;
  const from = row * columns;
  const { mean, shifted, r } = rowStatistics(x, from, columns, epsilon);
  let [dnm, dr] = [0, 0];
  for (let j = 0; j < columns; j++) {
    const [xj, dyj] = [x[from + j]!, dy[from + j]!];
    const inv = f(r * gamma[j]!);
    dnm = f(dnm + f(dyj * inv));
    const dinv = f(f(dyj * xj) + f(dyj * -mean));
    dr = f(dr + f(dinv * gamma[j]!));
    s[from + j] = f(dinv * r);
  }
  [mean, shifted, r, dnm, dr].forEach((value, plane) => (statistics[plane]![row] = value));
}

/**
 * The input's gradient of layer normalization with gamma on one row, from the row's r, mean and
 * the two terms the statistics give (dsq = dvariance / C and dm = dmean / C): dy·inv, plus
 * dsq·((x − mean)·2) (the squared deviation's gradient), plus dm (the mean's), added in that
 * order, as tfjs-core accumulates x's gradient over its three uses.
 */
export function layerNormInputGradientRow(x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>, dx: { [i: number]: number }, [r, mean, dsq, dm]: readonly number[], from: number, columns: number): void {
  const f = Math.fround;
  for (let j = 0; j < columns; j++) {
    const inv = f(r! * gamma[j]!);
    dx[from + j] = f(f(f(dy[from + j]! * inv) + f(dsq! * f(f(x[from + j]! - mean!) * 2))) + dm!);
  }
}

/**
 * `layerNormGradientRows(x, dy, gamma, s, statistics, groups, columns, rowCount, epsilonBits)`:
 * layerNormGradientRow for `groups` groups of 4 rows from byte x, dy and s (row-major, `columns` a
 * multiple of 4), the statistics' planes at byte `statistics`, `rowCount` rows apart (the first
 * group's rows are the planes' first). Four rows' sums in the lanes of one vector (row-sums.ts).
 */
export function layerNormGradientRowsFunction(): WasmFunction {
  const [x, dy, gamma, s, statistics, groups, columns, rowCount, epsilonBits] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [rowBytes, at, left, planeBytes] = [9, 10, 11, 12];
  let next = 13;
  const v = () => next++;
  const rowsA = [v(), v(), v(), v()];
  const rowsB = [v(), v(), v(), v()];
  const turned = [v(), v(), v(), v()];
  const [sum, sumB, mean, r, count, g, dyRow, inv] = [v(), v(), v(), v(), v(), v(), v(), v()];
  const rSplats = [v(), v(), v(), v()];
  const negativeMeans = [v(), v(), v(), v()];
  const rowAt = (code: Code, base: number, row: number) => code.get(base).get(at).i32Add().get(rowBytes).i32(row).i32Mul().i32Add();
  /** Every 4x4 block of x's group: `each` loads and transforms row `row` into rowsA[row] (and rowsB), then the block's columns are added. */
  const overBlocks = (group: Code, each: (block: Code, row: number) => void, sums: Array<[readonly number[], number]>, withGamma = false) => {
    for (const [, into] of sums) group.v128Zero().set(into);
    group.i32(0).set(at).get(rowBytes).set(left);
    group.loop((block) => {
      if (withGamma) block.get(gamma).get(at).i32Add().v128Load().set(g);
      for (let row = 0; row < 4; row++) each(block, row);
      for (const [rows, into] of sums) addBlockColumns(block, rows, turned, into);
      block.get(at).i32(16).i32Add().set(at);
      block.get(left).i32(16).i32Sub().tee(left).brIf(0);
    });
  };
  const body = new Code();
  body.get(columns).i32(2).i32Shl().set(rowBytes);
  body.get(rowCount).i32(2).i32Shl().set(planeBytes);
  body.loop((group) => {
    group.get(columns).f32ConvertI32U().f32x4Splat().set(count);
    overBlocks(group, (block, row) => rowAt(block, x, row).v128Load().set(rowsA[row]!), [[rowsA, sum]]);
    group.get(sum).get(count).f32x4Div().set(mean);
    overBlocks(group, (block, row) => {
      rowAt(block, x, row).v128Load();
      splatLane(block, mean, row).f32x4Sub().set(rowsA[row]!);
      block.get(rowsA[row]!).get(rowsA[row]!).f32x4Mul().set(rowsA[row]!);
    }, [[rowsA, sum]]);
    // variance + epsilon into sum, r = 1 / √ of it.
    group.get(sum).get(count).f32x4Div().get(epsilonBits).i32x4Splat().f32x4Add().set(sum);
    group.f32x4Const(1).get(sum).f32x4Sqrt().f32x4Div().set(r);
    for (let row = 0; row < 4; row++) {
      splatLane(group, r, row).set(rSplats[row]!);
      splatLane(group, mean, row).f32x4Neg().set(negativeMeans[row]!);
    }
    const plane = (code: Code, index: number) => code.get(statistics).get(planeBytes).i32(index).i32Mul().i32Add();
    plane(group, 0).get(mean).v128Store();
    plane(group, 1).get(sum).v128Store();
    plane(group, 2).get(r).v128Store();
    // dnm in sum, dr in sumB; s written.
    overBlocks(group, (block, row) => {
      rowAt(block, dy, row).v128Load().set(dyRow);
      block.get(rSplats[row]!).get(g).f32x4Mul().set(inv);
      block.get(dyRow).get(inv).f32x4Mul().set(rowsA[row]!);
      // dinv = dy·x + dy·(−mean), into inv.
      block.get(dyRow).get(x).get(at).i32Add().get(rowBytes).i32(row).i32Mul().i32Add().v128Load().f32x4Mul();
      block.get(dyRow).get(negativeMeans[row]!).f32x4Mul().f32x4Add().set(inv);
      block.get(inv).get(g).f32x4Mul().set(rowsB[row]!);
      rowAt(block, s, row).get(inv).get(rSplats[row]!).f32x4Mul().v128Store();
    }, [[rowsA, sum], [rowsB, sumB]], true);
    plane(group, 3).get(sum).v128Store();
    plane(group, 4).get(sumB).v128Store();
    for (const base of [x, dy, s]) group.get(base).get(rowBytes).i32(4).i32Mul().i32Add().set(base);
    group.get(statistics).i32(16).i32Add().set(statistics);
    group.get(groups).i32(1).i32Sub().tee(groups).brIf(0);
  });
  const locals: ValueType[] = [...Array.from({ length: 4 }, (): ValueType => I32), ...Array.from({ length: next - 13 }, (): ValueType => V128)];
  return { name: 'layerNormGradientRows', params: Array.from({ length: 9 }, (): ValueType => I32), locals, body };
}

/**
 * `layerNormInputGradientRows(x, dy, gamma, dx, terms, rows, columns)`: layerNormInputGradientRow
 * for `rows` rows from bytes x, dy and dx (`columns` a multiple of 4), each row's r, mean, dsq and
 * dm in four planes at byte `terms`, `rowCount` rows apart.
 */
export function layerNormInputGradientRowsFunction(): WasmFunction {
  const [x, dy, gamma, dx, terms, rows, columns, rowCount] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [left, weightAt, planeBytes] = [8, 9, 10];
  const [r, mean, dsq, dm, inv] = [11, 12, 13, 14, 15];
  const body = new Code();
  body.get(rowCount).i32(2).i32Shl().set(planeBytes);
  body.loop((row) => {
    [r, mean, dsq, dm].forEach((local, plane) => row.get(terms).get(planeBytes).i32(plane).i32Mul().i32Add().v128Load32Splat().set(local));
    row.get(gamma).set(weightAt).get(columns).set(left);
    row.loop((step) => {
      step.get(r).get(weightAt).v128Load().f32x4Mul().set(inv);
      step.get(dx);
      step.get(dy).v128Load().get(inv).f32x4Mul();
      step.get(dsq).get(x).v128Load().get(mean).f32x4Sub().f32x4Const(2).f32x4Mul().f32x4Mul().f32x4Add();
      step.get(dm).f32x4Add().v128Store();
      for (const pointer of [x, dy, dx, weightAt]) step.get(pointer).i32(16).i32Add().set(pointer);
      step.get(left).i32(4).i32Sub().tee(left).brIf(0);
    });
    row.get(terms).i32(4).i32Add().set(terms);
    row.get(rows).i32(1).i32Sub().tee(rows).brIf(0);
  });
  const locals: ValueType[] = [I32, I32, I32, V128, V128, V128, V128, V128];
  return { name: 'layerNormInputGradientRows', params: Array.from({ length: 8 }, (): ValueType => I32), locals, body };
}
