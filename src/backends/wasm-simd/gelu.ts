import { ERF_LOCALS, erfFloat32, erfOf } from './erf.js';
import { Code, I32, V128, type WasmFunction } from './wasm-binary.js';

/** √2 as the float32 scalar tfjs-layers divides by (Math.sqrt(2) in a float32 tensor). */
const SQRT2 = Math.fround(Math.SQRT2);

/**
 * Exact GELU as tfjs-layers' `gelu` activation composes it, x · (0.5 · (1 + erf(x / √2))), on one
 * value: each operation rounded to float32 in that order, erf as erf.ts's kernel computes it. So the
 * same values, bit for bit, as the five kernels (RealDiv, Erf, Add, Multiply, Multiply) on wasm.
 */
export function geluFloat32(value: number): number {
  const f = Math.fround;
  const x = f(value);
  return f(x * f(0.5 * f(1 + erfFloat32(f(x / SQRT2)))));
}

/**
 * `geluRows(x, y, vectors)`: y = geluFloat32(x) for `vectors` vectors of 4 float32 from byte x to
 * byte y (x and y may be the same): one pass where tfjs-layers' composition makes five, each
 * reading and writing the whole tensor (a Transformer's feed-forward activation, [32, 128, 1024]).
 */
export function geluRowsFunction(): WasmFunction {
  const [x, y, vectors] = [0, 1, 2];
  const [input, v, t, numerator, denominator] = [3, 4, 5, 6, 7];
  const body = new Code().loop((row) => {
    row.get(x).v128Load().set(input);
    row.get(input).f32x4Const(SQRT2).f32x4Div().set(v);
    row.get(y).get(input);
    erfOf(row, v, [t, numerator, denominator]).f32x4Const(1).f32x4Add().f32x4Const(0.5).f32x4Mul().f32x4Mul().v128Store();
    row.get(x).i32(16).i32Add().set(x);
    row.get(y).i32(16).i32Add().set(y);
    row.get(vectors).i32(1).i32Sub().tee(vectors).brIf(0);
  });
  return { name: 'geluRows', params: [I32, I32, I32], locals: Array.from({ length: 1 + ERF_LOCALS }, () => V128), body };
}
