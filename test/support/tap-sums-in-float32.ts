import type { FilterGeometry } from '../../src/backends/wasm-simd/filter-taps.js';

/**
 * A filter gradient's sums in float32 as keras-bridge's SIMD kernels make them: per tap and channel
 * pair p (of `pairs`), per image and output row, a row sum from 0 over the row's pixels (each
 * product and sum rounded to float32), added to the total in image and row order; padding adds
 * nothing. `x(b, row, col, p)` and `dy(b, oh, ow, p)` read the pair's two values; the result is
 * laid out [kh, kw, pairs].
 */
export function tapSumsInFloat32(g: FilterGeometry, pairs: number, x: (b: number, row: number, col: number, p: number) => number, dy: (b: number, oh: number, ow: number, p: number) => number): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(g.filterHeight * g.filterWidth * pairs);
  for (let i = 0; i < g.filterHeight; i++)
    for (let j = 0; j < g.filterWidth; j++)
      for (let p = 0; p < pairs; p++) {
        let total = 0;
        for (let b = 0; b < g.batch; b++)
          for (let oh = 0; oh < g.outHeight; oh++) {
            const row = oh * g.strideHeight + i - g.top;
            if (row < 0 || row >= g.height) continue;
            let sum = 0;
            for (let ow = 0; ow < g.outWidth; ow++) {
              const col = ow * g.strideWidth + j - g.left;
              if (col < 0 || col >= g.width) continue;
              sum = f(sum + f(x(b, row, col, p) * dy(b, oh, ow, p)));
            }
            total = f(total + sum);
          }
        out[(i * g.filterWidth + j) * pairs + p] = total;
      }
  return out;
}
