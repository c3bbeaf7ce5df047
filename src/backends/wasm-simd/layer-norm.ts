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
  let sum = 0;
  for (let j = 0; j < columns; j++) sum = f(sum + x[from + j]!);
  const mean = f(sum / columns);
  let squares = 0;
  for (let j = 0; j < columns; j++) {
    const deviation = f(x[from + j]! - mean);
    squares = f(squares + f(deviation * deviation));
  }
  const r = f(1 / f(Math.sqrt(f(f(squares / columns) + f(epsilon)))));
  for (let j = 0; j < columns; j++) {
    const inv = gamma ? f(r * gamma[j]!) : r;
    const shift = beta ? f(f(-mean * inv) + beta[j]!) : f(-mean * inv);
    out[from + j] = f(f(x[from + j]! * inv) + shift);
  }
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
