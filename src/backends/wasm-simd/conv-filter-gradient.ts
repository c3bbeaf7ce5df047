import { forEachTapRun, type FilterGeometry } from './filter-taps.js';
import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/**
 * `outerRowN(x, dy, total, pixels, xStep, dyStep)` for N = 4 or 16 output channels: over `pixels`
 * pixels, Σ x · dy[0..N) with x one float32 (`xStep` bytes to the next pixel's) and dy N of them
 * (`dyStep` bytes on), added to the N sums at `total`. A row of a convolution's filter gradient,
 * one input channel and tap by N output channels; one accumulator per 4 channels.
 */
export function outerRowFunction(channels: 4 | 16): WasmFunction {
  const [x, dy, total, pixels, xStep, dyStep] = [0, 1, 2, 3, 4, 5];
  const blocks = channels / 4;
  const sums = Array.from({ length: blocks }, (_, k) => 6 + k);
  const value = 6 + blocks;
  const body = new Code();
  for (const sum of sums) body.v128Zero().set(sum);
  body.block((exit) =>
    exit
      .get(pixels)
      .i32Eqz()
      .brIf(0)
      .loop((next) => {
        next.get(x).f32Load().f32x4Splat().set(value);
        sums.forEach((sum, k) => next.get(sum).get(value).get(dy).v128Load(16 * k).f32x4Mul().f32x4Add().set(sum));
        next
          .get(x).get(xStep).i32Add().set(x)
          .get(dy).get(dyStep).i32Add().set(dy)
          .get(pixels).i32(1).i32Sub().tee(pixels)
          .brIf(0);
      }),
  );
  sums.forEach((sum, k) => body.get(total).get(total).v128Load(16 * k).get(sum).f32x4Add().v128Store(16 * k));
  return { name: `outerRow${channels}`, params: [I32, I32, I32, I32, I32, I32], locals: [...sums.map((): ValueType => V128), V128], body };
}

export type OuterRow = (x: number, dy: number, total: number, pixels: number, xStep: number, dyStep: number) => void;

/** A convolution (no dilation), NHWC, as its filter gradient needs it. */
export interface ConvGeometry extends FilterGeometry {
  inChannels: number;
  outChannels: number;
}

/**
 * dW[i, j, ci, co] = Σ over images b and output pixels (oh, ow) of x[b, oh·sh + i - top, ow·sw + j - left, ci]
 * · dy[b, oh, ow, co], padding read as zeros: per image, output row, tap (forEachTapRun) and input
 * channel, one call over the output pixels whose tap lies inside x, 16 output channels at a time
 * (then 4), each row's sums added to the total once. No im2col: for a network's first layer (3
 * input channels), whose taps as a matrix cost more to lay out than the product. Offsets are
 * float32 elements of the heap; `out` ([kh, kw, ci, co]) is overwritten. outChannels % 4 must be 0.
 */
export function convFilterGradient(rows: { row16: OuterRow; row4: OuterRow }, heap: Float32Array, x: number, dy: number, out: number, g: ConvGeometry): void {
  const [ci, co] = [g.inChannels, g.outChannels];
  if (co % 4 !== 0) throw new Error(`convFilterGradient: ${co} output channels, not a multiple of 4`);
  heap.fill(0, out, out + g.filterHeight * g.filterWidth * ci * co);
  const xStep = 4 * g.strideWidth * ci;
  const dyStep = 4 * co;
  const wide = co - (co % 16);
  forEachTapRun(g, (i, j, inputPixel, outputPixel, pixels) => {
    const dyAt = dy + outputPixel * co;
    for (let c = 0; c < ci; c++) {
      const [xAt, totalAt] = [x + inputPixel * ci + c, out + ((i * g.filterWidth + j) * ci + c) * co];
      for (let k = 0; k < wide; k += 16) rows.row16(4 * xAt, 4 * (dyAt + k), 4 * (totalAt + k), pixels, xStep, dyStep);
      for (let k = wide; k < co; k += 4) rows.row4(4 * xAt, 4 * (dyAt + k), 4 * (totalAt + k), pixels, xStep, dyStep);
    }
  });
}
