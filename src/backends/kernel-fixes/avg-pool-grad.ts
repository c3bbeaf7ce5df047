import tf from '#tfjs';
import type { HostCompute } from './host-kernel.js';

/** A pooling window's geometry in three spatial dimensions (depth, height, width); 2D has depth 1. */
export interface PoolGeometry {
  batch: number;
  channels: number;
  in: [number, number, number];
  out: [number, number, number];
  stride: [number, number, number];
  filter: [number, number, number];
  padStart: [number, number, number];
}

/**
 * The gradient of average pooling as TensorFlow defines it: each output's gradient is shared
 * equally among the input elements its window covered *inside the input*. tfjs 4.22's cpu and
 * wasm AvgPoolGrad/AvgPool3DGrad divide by the full window size instead, which is wrong at the
 * edges under 'same' padding (its forward AvgPool does divide by the in-bounds count).
 */
export function averagePoolGradient(dy: ArrayLike<number>, g: PoolGeometry): Float32Array {
  const [inD, inH, inW] = g.in;
  const [outD, outH, outW] = g.out;
  const c = g.channels;
  const dx = new Float64Array(g.batch * inD * inH * inW * c);
  let dyIndex = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let od = 0; od < outD; od++) {
      const [d0, d1] = span(od, 0, g);
      for (let oh = 0; oh < outH; oh++) {
        const [h0, h1] = span(oh, 1, g);
        for (let ow = 0; ow < outW; ow++, dyIndex += c) {
          const [w0, w1] = span(ow, 2, g);
          const count = (d1 - d0) * (h1 - h0) * (w1 - w0);
          for (let d = d0; d < d1; d++) {
            for (let h = h0; h < h1; h++) {
              for (let w = w0; w < w1; w++) {
                const base = (((b * inD + d) * inH + h) * inW + w) * c;
                for (let ch = 0; ch < c; ch++) dx[base + ch]! += dy[dyIndex + ch]! / count;
              }
            }
          }
        }
      }
    }
  }
  return Float32Array.from(dx);
}

/** The in-bounds input range [start, end) that output position `o` pools along `axis` (avg-pool-grad-composed.ts counts windows by it too). */
export function span(o: number, axis: 0 | 1 | 2, g: PoolGeometry): [number, number] {
  const start = o * g.stride[axis] - g.padStart[axis];
  return [Math.max(start, 0), Math.min(start + g.filter[axis], g.in[axis])];
}

type Pad = 'valid' | 'same' | number;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** AvgPoolGrad's window geometry for an NHWC input of `inputShape`, from the kernel's attributes, and tfjs's pooling info it comes from. */
export function avgPool2DGeometry(inputShape: readonly number[], attrs: tf.NamedAttrMap): { info: tf.backend_util.Conv2DInfo; geometry: PoolGeometry } {
  const info = tf.backend_util.computePool2DInfo(
    inputShape as [number, number, number, number],
    attrs['filterSize'] as [number, number] | number,
    attrs['strides'] as [number, number] | number,
    1,
    attrs['pad'] as Pad,
    attrs['dimRoundingMode'] as Rounding,
  );
  const geometry: PoolGeometry = {
    batch: info.batchSize,
    channels: info.inChannels,
    in: [1, info.inHeight, info.inWidth],
    out: [1, info.outHeight, info.outWidth],
    stride: [1, info.strideHeight, info.strideWidth],
    filter: [1, info.filterHeight, info.filterWidth],
    padStart: [0, info.padInfo.top, info.padInfo.left],
  };
  return { info, geometry };
}

/** AvgPoolGrad: inputs dy [N, outH, outW, C] and input [N, H, W, C]. */
export const avgPoolGrad: HostCompute = ({ dy, input }, attrs) => {
  const { geometry } = avgPool2DGeometry(input!.shape, attrs);
  return { values: averagePoolGradient(dy!.values as Float32Array, geometry), shape: input!.shape, dtype: 'float32' };
};

/** A 3D pooling's geometry as tfjs computes it from a pooling kernel's attributes (NDHWC). */
export function pool3DInfo(inputShape: readonly number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv3DInfo {
  return tf.backend_util.computePool3DInfo(
    inputShape as [number, number, number, number, number],
    attrs['filterSize'] as [number, number, number] | number,
    attrs['strides'] as [number, number, number] | number,
    1,
    attrs['pad'] as Pad,
    attrs['dimRoundingMode'] as Rounding,
  );
}

/** That geometry as the loops here (and span) read it. */
export function pool3DGeometry(info: tf.backend_util.Conv3DInfo): PoolGeometry {
  return {
    batch: info.batchSize,
    channels: info.inChannels,
    in: [info.inDepth, info.inHeight, info.inWidth],
    out: [info.outDepth, info.outHeight, info.outWidth],
    stride: [info.strideDepth, info.strideHeight, info.strideWidth],
    filter: [info.filterDepth, info.filterHeight, info.filterWidth],
    padStart: [info.padInfo.front, info.padInfo.top, info.padInfo.left],
  };
}

/** AvgPool3DGrad: inputs dy [N, outD, outH, outW, C] and input [N, D, H, W, C]. */
export const avgPool3DGrad: HostCompute = ({ dy, input }, attrs) => {
  const geometry = pool3DGeometry(pool3DInfo(input!.shape, attrs));
  return { values: averagePoolGradient(dy!.values as Float32Array, geometry), shape: input!.shape, dtype: 'float32' };
};
