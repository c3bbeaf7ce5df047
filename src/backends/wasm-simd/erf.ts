import { Code, I32, V128, type WasmFunction } from './wasm-binary.js';

/**
 * erf(x) ≈ x·P(x²)/Q(x²) on x clamped to [-4, 4] (erf rounds to ±1 in float32 beyond 3.92), the
 * result clamped to [-1, 1]: coefficients fitted by scripts/fit_erf_rational.py (the largest
 * relative error 2.5e-8 in float64; evaluated in float32 in this order, at most 6 units in the
 * last place from erf rounded to float32, 0.76 on average). Lowest degree first.
 */
export const ERF_NUMERATOR = [1.1283791065216064, 0.19353851675987244, 0.053100503981113434, 0.0038829559925943613, 0.0002845397393684834, 1.9866124603140634e-6] as const;
export const ERF_DENOMINATOR = [1.0, 0.5048515796661377, 0.11534695327281952, 0.015206492505967617, 0.0011854440672323108, 3.741701948456466e-5] as const;
const CLAMP = 4;

/**
 * The same function on one value, each operation rounded to float32 as the SIMD kernel rounds it
 * (the elements after the last whole vector). NaN stays NaN (Math.min and max propagate it, as
 * f32x4.min and max do), -0 stays -0.
 */
export function erfFloat32(value: number): number {
  const f = Math.fround;
  const x = Math.min(Math.max(f(value), -CLAMP), CLAMP);
  const t = f(x * x);
  const horner = (coefficients: readonly number[]) => coefficients.slice(0, -1).reduceRight((sum, c) => f(f(sum * t) + f(c)), f(coefficients[coefficients.length - 1]!));
  return Math.min(Math.max(f(f(x * horner(ERF_NUMERATOR)) / horner(ERF_DENOMINATOR)), -1), 1);
}

/** Locals erfOf uses: four v128. */
export const ERF_LOCALS = 4;

/**
 * Emits erf of the vector local `v` into the stack (one v128), the SIMD kernel's operations in
 * erfFloat32's order; `v` is clamped in place, and `scratch` names three more v128 locals.
 */
export function erfOf(code: Code, v: number, [t, numerator, denominator]: readonly [number, number, number]): Code {
  const horner = (coefficients: readonly number[], into: number) => {
    code.f32x4Const(coefficients[coefficients.length - 1]!).set(into);
    for (let i = coefficients.length - 2; i >= 0; i--) code.get(into).get(t).f32x4Mul().f32x4Const(coefficients[i]!).f32x4Add().set(into);
  };
  // Clamps as pmax/pmin, one instruction each on x64 where max/min take several: the same values
  // for bounds that are neither NaN nor zero (NaN and -0 pass through both alike).
  code.get(v).f32x4Const(-CLAMP).f32x4Pmax().f32x4Const(CLAMP).f32x4Pmin().set(v);
  code.get(v).get(v).f32x4Mul().set(t);
  horner(ERF_NUMERATOR, numerator);
  horner(ERF_DENOMINATOR, denominator);
  return code.get(v).get(numerator).f32x4Mul().get(denominator).f32x4Div().f32x4Const(-1).f32x4Pmax().f32x4Const(1).f32x4Pmin();
}

/** `erfRows(x, y, vectors)`: y = erf(x) for `vectors` vectors of 4 float32 from byte x to byte y (x and y may be the same). */
export function erfRowsFunction(): WasmFunction {
  const [x, y, vectors] = [0, 1, 2];
  const [v, t, numerator, denominator] = [3, 4, 5, 6];
  const body = new Code().loop((row) => {
    row.get(y).get(x).v128Load().set(v);
    erfOf(row, v, [t, numerator, denominator]).v128Store();
    row.get(x).i32(16).i32Add().set(x);
    row.get(y).i32(16).i32Add().set(y);
    row.get(vectors).i32(1).i32Sub().tee(vectors).brIf(0);
  });
  return { name: 'erfRows', params: [I32, I32, I32], locals: Array.from({ length: ERF_LOCALS }, () => V128), body };
}

export type ErfRows = (x: number, y: number, vectors: number) => void;
