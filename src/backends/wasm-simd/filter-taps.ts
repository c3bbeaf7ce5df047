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
