import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/** A 2-D convolution's geometry (NHWC, no dilation) as its filter gradient walks it. */
export interface FilterGeometry {
  batch: number;
  height: number;
  width: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  top: number;
  left: number;
}

/**
 * For each image, output row and tap (i, j) whose input row lies inside x, the output pixels of
 * that row whose tap column lies inside x too (0 <= ow·sw + j - left < width): `visit(i, j,
 * inputPixel, outputPixel, pixels)` with the flat index of the input pixel the first of them reads,
 * its own flat index, and how many there are (the next ones read every strideWidth-th input pixel).
 * Padding is never visited: it adds zeros.
 */
export function forEachTapRun(g: FilterGeometry, visit: (i: number, j: number, inputPixel: number, outputPixel: number, pixels: number) => void): void {
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let i = 0; i < g.filterHeight; i++) {
        const row = oh * g.strideHeight + i - g.top;
        if (row < 0 || row >= g.height) continue;
        for (let j = 0; j < g.filterWidth; j++) {
          const first = Math.max(0, Math.ceil((g.left - j) / g.strideWidth));
          const end = Math.min(g.outWidth, Math.floor((g.width - 1 + g.left - j) / g.strideWidth) + 1);
          if (end <= first) continue;
          visit(i, j, (b * g.height + row) * g.width + first * g.strideWidth + j - g.left, (b * g.outHeight + oh) * g.outWidth + first, end - first);
        }
      }
    }
  }
}

/**
 * `name(x, dy, total, pixels, xStep, dyStep)`: over `pixels` pixels (x's `xStep` bytes apart, dy's
 * `dyStep`), Σ x · dy for `channels` (4 or 16) float32 lanes of dy, added to the sums at `total`.
 * x is a vector of as many channels ('vector': a depthwise filter gradient) or one float32 splat
 * across them ('splat': one input channel against dy's output channels). One v128 accumulator per 4
 * channels, so that 16 channels run four independent chains of adds; each row's sum is added to the
 * total once (the total then adds one term per row, not per pixel).
 */
export function rowSumsFunction(name: string, channels: 4 | 16, x: 'vector' | 'splat'): WasmFunction {
  const [xAt, dy, total, pixels, xStep, dyStep] = [0, 1, 2, 3, 4, 5];
  const sums = Array.from({ length: channels / 4 }, (_, k) => 6 + k);
  const value = 6 + sums.length;
  const body = new Code();
  for (const sum of sums) body.v128Zero().set(sum);
  body.block((exit) =>
    exit
      .get(pixels)
      .i32Eqz()
      .brIf(0)
      .loop((next) => {
        if (x === 'splat') next.get(xAt).f32Load().f32x4Splat().set(value);
        sums.forEach((sum, k) => {
          next.get(sum);
          if (x === 'splat') next.get(value);
          else next.get(xAt).v128Load(16 * k);
          next.get(dy).v128Load(16 * k).f32x4Mul().f32x4Add().set(sum);
        });
        next
          .get(xAt).get(xStep).i32Add().set(xAt)
          .get(dy).get(dyStep).i32Add().set(dy)
          .get(pixels).i32(1).i32Sub().tee(pixels)
          .brIf(0);
      }),
  );
  sums.forEach((sum, k) => body.get(total).get(total).v128Load(16 * k).get(sum).f32x4Add().v128Store(16 * k));
  const locals: ValueType[] = sums.map((): ValueType => V128);
  if (x === 'splat') locals.push(V128);
  return { name, params: [I32, I32, I32, I32, I32, I32], locals, body };
}

/** A function rowSumsFunction writes. */
export type RowSums = (x: number, dy: number, total: number, pixels: number, xStep: number, dyStep: number) => void;
