import { forEachTapRun, type FilterGeometry } from './filter-taps.js';
import { Code, I32, V128, type WasmFunction } from './wasm-binary.js';

/**
 * `depthwiseRowN(x, dy, total, pixels, xStep, dyStep)` for N = 4 or 16 channels: over `pixels`
 * pixels (x's `xStep` bytes apart, dy's `dyStep`), the sums of x · dy per channel, added to the N
 * float32 sums at `total`. One v128 accumulator per 4 channels, so that 16 channels run four
 * independent chains of adds; each row's sum is added to the total once (the total then adds one
 * term per row, not per pixel).
 */
export function depthwiseRowFunction(channels: 4 | 16): WasmFunction {
  const [x, dy, total, pixels, xStep, dyStep] = [0, 1, 2, 3, 4, 5];
  const blocks = channels / 4;
  const sums = Array.from({ length: blocks }, (_, k) => 6 + k);
  const body = new Code();
  for (const sum of sums) body.v128Zero().set(sum);
  body.block((exit) =>
    exit
      .get(pixels)
      .i32Eqz()
      .brIf(0)
      .loop((next) => {
        sums.forEach((sum, k) => next.get(sum).get(x).v128Load(16 * k).get(dy).v128Load(16 * k).f32x4Mul().f32x4Add().set(sum));
        next
          .get(x).get(xStep).i32Add().set(x)
          .get(dy).get(dyStep).i32Add().set(dy)
          .get(pixels).i32(1).i32Sub().tee(pixels)
          .brIf(0);
      }),
  );
  sums.forEach((sum, k) => body.get(total).get(total).v128Load(16 * k).get(sum).f32x4Add().v128Store(16 * k));
  return { name: `depthwiseRow${channels}`, params: [I32, I32, I32, I32, I32, I32], locals: sums.map(() => V128), body };
}

export type DepthwiseRow = (x: number, dy: number, total: number, pixels: number, xStep: number, dyStep: number) => void;

/** A depthwise convolution (channel multiplier 1, no dilation), NHWC, as its filter gradient needs it. */
export interface DepthwiseGeometry extends FilterGeometry {
  channels: number;
}

/**
 * dW[i, j, c] = Σ over images b and output pixels (oh, ow) of x[b, oh·sh + i - top, ow·sw + j - left, c]
 * · dy[b, oh, ow, c], padding read as zeros: per image, output row and tap, one call over the output
 * pixels whose tap lies inside x (forEachTapRun), 16 channels at a time (then 4). Offsets are
 * float32 elements of the heap; `out` (filterHeight · filterWidth · channels) is overwritten.
 * channels % 4 must be 0.
 */
export function depthwiseFilterGradient(rows: { row16: DepthwiseRow; row4: DepthwiseRow }, heap: Float32Array, x: number, dy: number, out: number, g: DepthwiseGeometry): void {
  const c = g.channels;
  if (c % 4 !== 0) throw new Error(`depthwiseFilterGradient: ${c} channels, not a multiple of 4`);
  heap.fill(0, out, out + g.filterHeight * g.filterWidth * c);
  const xStep = 4 * g.strideWidth * c;
  const dyStep = 4 * c;
  const wide = c - (c % 16);
  forEachTapRun(g, (i, j, inputPixel, outputPixel, pixels) => {
    const [xAt, dyAt, totalAt] = [x + inputPixel * c, dy + outputPixel * c, out + (i * g.filterWidth + j) * c];
    for (let k = 0; k < wide; k += 16) rows.row16(4 * (xAt + k), 4 * (dyAt + k), 4 * (totalAt + k), pixels, xStep, dyStep);
    for (let k = wide; k < c; k += 4) rows.row4(4 * (xAt + k), 4 * (dyAt + k), 4 * (totalAt + k), pixels, xStep, dyStep);
  });
}
