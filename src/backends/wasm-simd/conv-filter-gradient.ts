import { forEachTapRun, rowSumsFunction, type FilterGeometry, type RowSums } from './filter-taps.js';
import type { WasmFunction } from './wasm-binary.js';

/**
 * `outerRowN` for N = 4 or 16 output channels: a row of a convolution's filter gradient, one input
 * channel's value splat against N output channels of dy (filter-taps.ts, rowSumsFunction).
 */
export const outerRowFunction = (channels: 4 | 16): WasmFunction => rowSumsFunction(`outerRow${channels}`, channels, 'splat');

export type OuterRow = RowSums;

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
