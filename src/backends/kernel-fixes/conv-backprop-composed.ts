import * as tf from '@tensorflow/tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/**
 * The convolution gradients tfjs-backend-wasm lacks, written as compositions of the kernels it has
 * (XNNPACK's Conv2D and DepthwiseConv2dNative, Transpose, PadV2, Slice, Reshape, BatchMatMul,
 * Sum), so that they run inside wasm instead of being copied to JavaScript and back
 * (docs/wasm-kernels.md). NHWC only; other cases return undefined and take the host kernel.
 */

function convInfo(xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap, depthwise: boolean): Conv2DInfo {
  const dilations = (attrs['dilations'] as number | [number, number] | undefined) ?? 1;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as number | [number, number],
    dilations,
    attrs['pad'] as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
    'channelsLast',
  );
}

const isNhwc = (attrs: tf.NamedAttrMap) => (attrs['dataFormat'] ?? 'NHWC') === 'NHWC';

/** x padded as the forward convolution pads it: [B, top+H+bottom, left+W+right, C]. */
function padded(r: KernelRunner, x: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo {
  const { top, bottom, left, right } = info.padInfo;
  return r.padOrCut(x, [top, bottom], [left, right]);
}

/**
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} xp[b, oh·sh+kh, ow·sw+kw, ci] · dy[b,oh,ow,co]: a convolution of
 * x (batch and channels swapped) with dy as its filter, dilated by the forward stride. (For a 1x1
 * kernel this is a matrix product, but tfjs-backend-wasm's BatchMatMul with a transposed operand
 * measured 10x slower on ResNet50's 1x1 layers than XNNPACK's convolution.)
 */
export const conv2DBackpropFilter: ComposedCompute = (inputs, attrs, r) => {
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const filterShape = attrs['filterShape'] as number[];
  if (!isNhwc(attrs) || x.dtype !== 'float32') return undefined;
  const info = convInfo(x.shape, filterShape, attrs, false);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const [kh, kw, ci, co] = filterShape as [number, number, number, number];
  const { strideHeight: sh, strideWidth: sw } = info;
  const xt = r.transpose(padded(r, x, info), [3, 1, 2, 0]); // [ci, Hp, Wp, b]
  const filter = r.transpose(dy, [1, 2, 0, 3]); // [oh, ow, b, co]
  const full = r.run('Conv2D', { x: xt, filter }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] });
  // [ci, ≥kh, ≥kw, co]: rows past the kernel come from input rows the forward pass never reached.
  return r.transpose(r.slice(full, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
};

/**
 * Depthwise, channel multiplier 1: dW[kh,kw,c,0] = Σ_{b,oh,ow} xp[b, oh·sh+kh·dh, ow·sw+kw·dw, c] ·
 * dy[b,oh,ow,c]. The batch folds into the channels ([Hp, Wp, b·c]), dy becomes a depthwise filter
 * dilated by the stride, and the batch is summed out.
 */
export const depthwiseConv2dNativeBackpropFilter: ComposedCompute = (inputs, attrs, r) => {
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const filterShape = attrs['filterShape'] as number[];
  if (!isNhwc(attrs) || x.dtype !== 'float32' || filterShape[3] !== 1) return undefined;
  const info = convInfo(x.shape, filterShape, attrs, true);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const [kh, kw, c] = filterShape as [number, number, number];
  const [b, oh, ow] = [info.batchSize, info.outHeight, info.outWidth];
  const xp = padded(r, x, info);
  const [hp, wp] = [xp.shape[1]!, xp.shape[2]!];
  const folded = b === 1 ? xp : r.reshape(r.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, b * c]);
  const filter = b === 1 ? r.reshape(dy, [oh, ow, c, 1]) : r.reshape(r.transpose(dy, [1, 2, 0, 3]), [oh, ow, b * c, 1]);
  const full = r.run('DepthwiseConv2dNative', { x: folded, filter }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth] });
  const cut = r.slice(full, [0, 0, 0, 0], [1, kh, kw, b * c]);
  const summed = b === 1 ? cut : r.run('Sum', { x: r.reshape(cut, [kh, kw, b, c]) }, { axis: [2], keepDims: false });
  return r.reshape(summed, [kh, kw, c, 1]);
};

/** Depthwise, channel multiplier 1: as conv2DBackpropInput, with a depthwise convolution (no channels to swap). */
export const depthwiseConv2dNativeBackpropInput: ComposedCompute = (inputs, attrs, r) => {
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const inputShape = attrs['inputShape'] as number[];
  if (!isNhwc(attrs) || dy.dtype !== 'float32' || filter.shape[3] !== 1) return undefined;
  const info = convInfo(inputShape, filter.shape, attrs, true);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const dyPadded = spreadAndPad(r, dy, inputShape, filter.shape, info);
  if (!dyPadded) return undefined;
  const turned = turn(r, filter);
  return r.run('DepthwiseConv2dNative', { x: dyPadded, filter: turned }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
};

/**
 * dx of a convolution: the convolution of dy, spread out by the stride (zeros between its pixels)
 * and padded by the kernel size less the forward padding, with the kernel turned by 180 degrees and
 * its input and output channels swapped. tfjs-backend-wasm has this kernel, but as plain loops:
 * 2.7 s of ResNet50's 12 s backward pass at batch 1, against 0.24 s for all its forward convolutions.
 */
export const conv2DBackpropInput: ComposedCompute = (inputs, attrs, r) => {
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const inputShape = attrs['inputShape'] as number[];
  if (!isNhwc(attrs) || dy.dtype !== 'float32') return undefined;
  const info = convInfo(inputShape, filter.shape, attrs, false);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const dyPadded = spreadAndPad(r, dy, inputShape, filter.shape, info);
  if (!dyPadded) return undefined;
  const turned = r.transpose(turn(r, filter), [0, 1, 3, 2]);
  return r.run('Conv2D', { x: dyPadded, filter: turned }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
};

/**
 * A kernel turned by 180 degrees (reversed along its two spatial axes); a 1x1 kernel is itself.
 * Its kh·kw spatial positions, flattened, concatenated in reverse order: copies of whole ci·co
 * rows. tfjs-backend-wasm's Reverse measured 14 ms per 3x3x512x512 kernel, its StridedSlice with
 * negative strides 66 ms and its GatherV2 22 ms: most of ResNet50's backward pass once the
 * convolutions ran in XNNPACK.
 */
function turn(r: KernelRunner, filter: tf.TensorInfo): tf.TensorInfo {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  if (kh === 1 && kw === 1) return filter;
  const positions = kh * kw;
  const rows = r.reshape(filter, [positions, ci * co]);
  const reversed = Array.from({ length: positions }, (_, i) => r.slice(rows, [positions - 1 - i, 0], [1, ci * co]));
  return r.reshape(r.run('Concat', reversed, { axis: 0 }), [kh, kw, ci, co]);
}

/**
 * dy laid out so that a 'valid' correlation with the turned kernel gives dx: each pixel followed by
 * stride-1 zeros, then padded so that dx[i] = Σ_k spread[i + top - k] · f[k] for every input row i.
 * Undefined where the forward padding is larger than the kernel (only explicit padding can be).
 */
function spreadAndPad(r: KernelRunner, dy: tf.TensorInfo, inputShape: number[], filterShape: number[], info: Conv2DInfo): tf.TensorInfo | undefined {
  const [h, w] = [inputShape[1]!, inputShape[2]!];
  const [kh, kw] = [filterShape[0]!, filterShape[1]!];
  const [oh, ow] = [info.outHeight, info.outWidth];
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const [padTop, padLeft] = [kh - 1 - top, kw - 1 - left];
  if (padTop < 0 || padLeft < 0) return undefined;
  // Negative padding at the far end cuts spread rows no input row receives from.
  return r.padOrCut(r.spread(dy, sh, sw), [padTop, h + kh - 1 - padTop - oh * sh], [padLeft, w + kw - 1 - padLeft - ow * sw]);
}
