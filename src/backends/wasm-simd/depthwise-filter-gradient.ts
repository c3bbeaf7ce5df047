import { forEachTapRun, rowSumsFunction, type FilterGeometry, type RowSums } from './filter-taps.js';
import type { WasmFunction } from './wasm-binary.js';

/** `depthwiseRowN` for N = 4 or 16 channels: a row's sums of x · dy per channel (filter-taps.ts, rowSumsFunction). */
export const depthwiseRowFunction = (channels: 4 | 16): WasmFunction => rowSumsFunction(`depthwiseRow${channels}`, channels, 'vector');

export type DepthwiseRow = RowSums;

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
