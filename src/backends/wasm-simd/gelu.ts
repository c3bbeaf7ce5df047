import { ERF_LOCALS, erfFloat32, erfOf } from './erf.js';
import { expFloat32, expOf } from './exp.js';
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

/** Vectors geluRows computes per step of its main loop (geluRowsFunction). */
const GELU_UNROLL = 3;

/**
 * `geluRows(x, y, vectors)`: y = geluFloat32(x) for `vectors` vectors of 4 float32 from byte x to
 * byte y (x and y may be the same): one pass where tfjs-layers' composition makes five, each
 * reading and writing the whole tensor (a Transformer's feed-forward activation, [32, 128, 1024]).
 * GELU_UNROLL vectors a step (their loads and divisions first), then the last few one at a time:
 * each vector's erf is a chain of about twenty dependent operations, and three chains side by side
 * keep the floating-point units busy where one left them waiting. Measured one thread, 2²⁰ values:
 * 1.43 ns a value one vector a step, 1.06 three, 1.09 four, 1.25 six, 1.32 eight (past x64's 16
 * vector registers). The same operations on each value, so the same bits.
 */
export function geluRowsFunction(): WasmFunction {
  const [x, y, vectors] = [0, 1, 2];
  const perVector = 2 + ERF_LOCALS - 1;
  const local = (u: number, i: number) => 3 + u * perVector + i;
  /** GELU of `count` vectors from x to y, each vector's loads and division before any erf. */
  const step = (code: Code, count: number) => {
    for (let u = 0; u < count; u++) code.get(x).v128Load(16 * u).set(local(u, 0)).get(local(u, 0)).f32x4Const(SQRT2).f32x4Div().set(local(u, 1));
    for (let u = 0; u < count; u++) {
      code.get(y).get(local(u, 0));
      erfOf(code, local(u, 1), [local(u, 2), local(u, 3), local(u, 4)]).f32x4Const(1).f32x4Add().f32x4Const(0.5).f32x4Mul().f32x4Mul().v128Store(16 * u);
    }
    code.get(x).i32(16 * count).i32Add().set(x);
    code.get(y).i32(16 * count).i32Add().set(y);
    code.get(vectors).i32(count).i32Sub().set(vectors);
  };
  const body = new Code()
    .block((whole) =>
      whole.get(vectors).i32(GELU_UNROLL).i32LtU().brIf(0).loop((row) => {
        step(row, GELU_UNROLL);
        // Again while GELU_UNROLL are left.
        row.get(vectors).i32(GELU_UNROLL).i32LtU().i32Eqz().brIf(0);
      }),
    )
    .block((rest) =>
      rest.get(vectors).i32Eqz().brIf(0).loop((row) => {
        step(row, 1);
        row.get(vectors).brIf(0);
      }),
    );
  return { name: 'geluRows', params: [I32, I32, I32], locals: Array.from({ length: GELU_UNROLL * perVector }, () => V128), body };
}

/** 2/√π as the float32 scalar tfjs-core's Erf gradient multiplies by (erf'(u) = 2/√π · exp(−u²)). */
const TWO_OVER_SQRT_PI = Math.fround(2 / Math.sqrt(Math.PI));

/**
 * The gradient of exact GELU at x for the incoming gradient dy, as tfjs-core's backward pass
 * computes it through tfjs-layers' five operations, each rounded to float32 in that order: u = x/√2;
 * from x·cdf, dy·cdf (cdf = 0.5·(1 + erf u)) and dy·x; from 0.5·(1 + erf u), (dy·x)·0.5; from erf,
 * that times exp(−u²)·(2/√π) (Erf's gradient; exp as tfjs-backend-wasm's Exp, exp.ts); from u =
 * x/√2, that over √2; the two paths to x added. So the same values, bit for bit, as those ten
 * kernels on wasm.
 */
export function geluGradientFloat32(xValue: number, dyValue: number): number {
  const f = Math.fround;
  const [x, dy] = [f(xValue), f(dyValue)];
  const u = f(x / SQRT2);
  const throughProduct = f(dy * f(0.5 * f(1 + erfFloat32(u))));
  const throughErf = f(f(f(f(dy * x) * 0.5) * f(expFloat32(-f(u * u)) * TWO_OVER_SQRT_PI)) / SQRT2);
  return f(throughProduct + throughErf);
}

/**
 * `geluGradientRows(x, dy, dx, vectors, table)`: dx = geluGradientFloat32(x, dy) for `vectors`
 * vectors of 4 float32 (dx may be x or dy), EXP_TABLE at byte `table`: one pass where tfjs-core's
 * backward pass through the composition makes ten, and keeps three more tensors of x's size for it.
 */
export function geluGradientRowsFunction(): WasmFunction {
  const [x, dy, dx, vectors, table] = [0, 1, 2, 3, 4];
  const address = 5;
  const [input, gradient, u, w, throughProduct] = [6, 7, 8, 9, 10];
  const erfScratch = [11, 12, 13] as const;
  const expScratch = [14, 15, 16, 17] as const;
  const body = new Code().loop((row) => {
    row.get(x).v128Load().set(input);
    row.get(dy).v128Load().set(gradient);
    row.get(input).f32x4Const(SQRT2).f32x4Div().tee(u).set(w);
    // dy·cdf, cdf = 0.5·(1 + erf u) (erfOf clamps w, a copy of u).
    row.get(gradient);
    erfOf(row, w, erfScratch).f32x4Const(1).f32x4Add().f32x4Const(0.5).f32x4Mul().f32x4Mul().set(throughProduct);
    // ((dy·x)·0.5)·(exp(−u²)·(2/√π)) / √2.
    row.get(u).get(u).f32x4Mul().f32x4Neg().set(w);
    row.get(dx).get(throughProduct);
    row.get(gradient).get(input).f32x4Mul().f32x4Const(0.5).f32x4Mul();
    expOf(row, w, { vectors: expScratch, address }, table).f32x4Const(TWO_OVER_SQRT_PI).f32x4Mul().f32x4Mul().f32x4Const(SQRT2).f32x4Div();
    row.f32x4Add().v128Store();
    row.get(x).i32(16).i32Add().set(x);
    row.get(dy).i32(16).i32Add().set(dy);
    row.get(dx).i32(16).i32Add().set(dx);
    row.get(vectors).i32(1).i32Sub().tee(vectors).brIf(0);
  });
  const v128Locals = 5 + erfScratch.length + expScratch.length;
  return { name: 'geluGradientRows', params: [I32, I32, I32, I32, I32], locals: [I32, ...Array.from({ length: v128Locals }, (): typeof V128 => V128)], body };
}
