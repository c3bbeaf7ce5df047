import tf from '#tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import { activationAfter, activationClamp } from './conv-activations.js';
import { nhwcConv2DInfo } from './conv-info.js';
import { weightProductInTiles } from './weight-product.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';

/** How many convolutions ran as one product in the tiles (tests check the path a case took). */
export const pointwiseConvolutions = { count: 0 };

/**
 * Multiply-adds from which a pointwise convolution runs in the tiles; below, XNNPACK (tests lower it
 * to reach the edges). 2²⁵ while XNNPACK's pool threads spun 1,000,000 times after each of its
 * operations and held the core the tiles' helper needed; with that spin shortened (pool-spin.ts)
 * MobileNetV2's small pointwise layers at batch 1 (2-20 M multiply-adds) run faster in the tiles:
 * 15.4-15.7 → 11.0-12.6 ms a pass (docs/performance.md, twentieth section).
 */
export const pointwiseFrom = { macs: 1 << 21 };

/**
 * tfjs-backend-wasm's Conv2D and FusedConv2D for a 1x1 filter (a ResNet's bottleneck and
 * projection, a MobileNet's expansion and projection: over half of their multiply-adds) on NHWC
 * float32 with output channels in whole vectors of 4. x as rows [pixels, in] (for a strided
 * filter, every stride-th pixel copied out first, where the strides divide the sizes) is the left
 * operand of one product with the filter's [in, out], run in keras-bridge's SIMD tiles with the
 * filter's panels kept and the bias and a relu or relu6 added per chunk (weight-product.ts; other
 * activations after it as the backend's kernels). With one instruction per multiply-add
 * (relaxed-simd.ts) the tiles ran ResNet50's and MobileNetV2's pointwise shapes 1.3-1.8x as fast
 * as XNNPACK's convolution alone, less inside a model (docs/wasm-kernels.md): hence
 * pointwiseFrom. The bias comes after the sums, as TensorFlow's BiasAdd after its product
 * (XNNPACK starts from the bias). Anything else, or a small convolution: undefined, and XNNPACK
 * runs it.
 */
export const pointwiseConv2D: ComposedCompute = (inputs, attrs, r) => {
  const { x, filter, bias, preluActivationWeights } = inputs;
  if (!x || !filter || x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const [kh, kw, inChannels, outChannels] = filter.shape as [number, number, number, number];
  if (kh !== 1 || kw !== 1 || x.shape[3] !== inChannels || inChannels < 1 || outChannels % 4 !== 0) return undefined;
  const geometry = unpaddedGeometry(x, filter, attrs);
  if (!geometry) return undefined;
  const { batch, outHeight: height, outWidth: width, strideHeight, strideWidth } = geometry;
  const clamp = activationClamp(attrs, preluActivationWeights);
  if (!clamp) return undefined;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== outChannels)) return undefined;
  const pixels = batch * height * width;
  if (pixels * inChannels * outChannels < pointwiseFrom.macs) return undefined;
  const kernels = wasmHeapKernels(r.backend);
  if (!kernels) return undefined;
  const rows = strideHeight === 1 && strideWidth === 1 ? x : everyStridedPixel(r, x, strideHeight, strideWidth);
  const out = weightProductInTiles(r, kernels, { rows, weight: filter, m: pixels, k: inChannels, n: outChannels, ...(bias ? { bias } : {}), clamp, outShape: [batch, height, width, outChannels] });
  pointwiseConvolutions.count++;
  return activationAfter(out, r, attrs, preluActivationWeights);
};

/** The convolution's output size and strides where it pads nothing (a 1x1 filter never does under 'same' or 'valid', and its dilation changes nothing); NHWC only. */
function unpaddedGeometry(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.NamedAttrMap): { batch: number; outHeight: number; outWidth: number; strideHeight: number; strideWidth: number } | undefined {
  const info = nhwcConv2DInfo(x.shape, filter.shape, attrs);
  if (!info) return undefined;
  const { top, bottom, left, right } = info.padInfo;
  if (top !== 0 || bottom !== 0 || left !== 0 || right !== 0) return undefined;
  const { batchSize: batch, outHeight, outWidth, strideHeight, strideWidth } = info;
  // Every stride-th pixel from the first, and sizes the strides divide (everyStridedPixel).
  if (x.shape[1]! % strideHeight !== 0 || x.shape[2]! % strideWidth !== 0 || outHeight !== x.shape[1]! / strideHeight || outWidth !== x.shape[2]! / strideWidth) return undefined;
  return { batch, outHeight, outWidth, strideHeight, strideWidth };
}

/**
 * The pixels a strided 1x1 filter reads, [batch, height / sh, width / sw, channels], where the
 * strides divide the sizes: x seen as [batch, height / sh, sh, width / sw, sw · channels], its
 * slice at 0 along both strided axes, which the heap Slice kernel copies in runs of a pixel's
 * channels (tfjs-backend-wasm's StridedSlice computes an index per element: 34 ms for ResNet50's
 * [1, 56, 56, 256] at stride 2, ten times the convolution).
 */
function everyStridedPixel(r: KernelRunner, x: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const grid = r.reshape(x, [batch, height / sh, sh, width / sw, sw * channels]);
  const picked = r.slice(grid, [0, 0, 0, 0, 0], [batch, height / sh, 1, width / sw, channels]);
  return r.reshape(picked, [batch, height / sh, width / sw, channels]);
}
