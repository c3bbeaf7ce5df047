import type { HostCompute } from './host-kernel.js';

/**
 * The input row (or column) that output position `o` copies in tfjs's ResizeNearestNeighbor,
 * for an axis resized from `inSize` to `outSize`.
 */
function sourceIndex(o: number, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const aligned = alignCorners && outSize > 1;
  const ratio = (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
  const fraction = halfPixelCenters ? ratio * (o + 0.5) : ratio * o;
  const nearest = Math.min(inSize - 1, alignCorners ? Math.round(fraction) : Math.floor(fraction));
  return halfPixelCenters ? Math.max(0, nearest) : nearest;
}

/**
 * ResizeNearestNeighborGrad as the exact adjoint of the forward resize: every dy element is added
 * to the input pixel it was copied from. tfjs 4.22's cpu kernel indexes dy with the *input's*
 * batch stride, so every batch element after the first gets another element's gradient.
 */
export const resizeNearestNeighborGrad: HostCompute = ({ images, dy }, attrs) => {
  const [batch, inH, inW, channels] = images!.shape as [number, number, number, number];
  const [, outH, outW] = dy!.shape as [number, number, number, number];
  const alignCorners = attrs['alignCorners'] === true;
  const halfPixelCenters = attrs['halfPixelCenters'] === true;
  const rows = Array.from({ length: outH }, (_, r) => sourceIndex(r, inH, outH, alignCorners, halfPixelCenters));
  const cols = Array.from({ length: outW }, (_, c) => sourceIndex(c, inW, outW, alignCorners, halfPixelCenters));
  const dyValues = dy!.values as Float32Array;
  const dx = new Float64Array(batch * inH * inW * channels);
  let dyIndex = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < outH; r++) {
      for (let c = 0; c < outW; c++, dyIndex += channels) {
        const base = ((b * inH + rows[r]!) * inW + cols[c]!) * channels;
        for (let ch = 0; ch < channels; ch++) dx[base + ch]! += dyValues[dyIndex + ch]!;
      }
    }
  }
  return { values: Float32Array.from(dx), shape: images!.shape, dtype: 'float32' };
};
