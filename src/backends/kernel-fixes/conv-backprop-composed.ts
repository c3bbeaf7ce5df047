import tf from '#tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import { derivedTensor, derivedTensorIfRepeated } from './derived-tensors.js';
import { convFilterGradient, tapTableWords } from '../wasm-simd/conv-filter-gradient.js';
import { depthwiseFilterGradient } from '../wasm-simd/depthwise-filter-gradient.js';
import type { FilterGeometry } from '../wasm-simd/filter-taps.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { INPUT_GRADIENT_ATTR, winogradConv2DBackpropFilter } from './winograd-conv2d.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

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
 * The most elements one im2col block holds (64 MiB of float32): a larger batch is taken in
 * chunks of whole images, whose products are summed (tests lower it to reach that path).
 */
export const im2colBlock = { elements: 16 << 20 };

/**
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} xp[b, oh·sh+kh, ow·sw+kw, ci] · dy[b,oh,ow,co]: one matrix product
 * of the taps of x, laid out as rows (kh, kw, ci) by columns (b, oh, ow), with dy as [b·oh·ow, co].
 * tfjs-backend-wasm runs an untransposed single product in XNNPACK's fully connected operator.
 *
 * The taps are slices of x padded as the forward pass pads it, with its pixels sorted by stride
 * phase first ([sh·sw·ci, b, H/sh, W/sw]), so that tap (kh, kw) is one contiguous-row slice of
 * phase (kh mod sh, kw mod sw). This replaced a convolution of x by dy as the filter, whose
 * one-channel taps XNNPACK reads a float at a time: on ResNet50's shapes at batch 1 the product
 * is 1.7-1.9x faster for 3x3 kernels and 2.3-6.8x for 1x1 ones (docs/wasm-kernels.md), with the
 * same sums in the same order (equal bit for bit at batch 1).
 */
export const conv2DBackpropFilter: ComposedCompute = (inputs, attrs, r) => {
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const filterShape = attrs['filterShape'] as number[];
  if (!isNhwc(attrs) || x.dtype !== 'float32') return undefined;
  const info = convInfo(x.shape, filterShape, attrs, false);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const [kh, kw, ci, co] = filterShape as [number, number, number, number];
  const [b, oh, ow] = [info.batchSize, info.outHeight, info.outWidth];
  if (ci <= SMALL_INPUT_CHANNELS && kh * kw > 1) {
    const bySimd = convFilterGradientBySimd(r, x, dy, info);
    if (bySimd) return bySimd;
  }
  const byWinograd = winogradConv2DBackpropFilter(inputs, attrs, r);
  if (byWinograd) return byWinograd;
  const rows = kh * kw * ci;
  // A 1x1 kernel's taps are x itself (every stride-th pixel): no im2col to bound, and a batch cut
  // into chunks copied slices of x and dy for nothing (ResNet50 at batch 32, [32, 56, 56, 256] to
  // 64 channels: 75 → 48 ms).
  const chunk = kh * kw === 1 ? b : Math.max(1, Math.min(b, Math.floor(im2colBlock.elements / (rows * oh * ow))));
  const products: tf.TensorInfo[] = [];
  for (let first = 0; first < b; first += chunk) {
    const count = Math.min(chunk, b - first);
    const xs = count === b ? x : r.slice(x, [first, 0, 0, 0], [count, ...x.shape.slice(1)]);
    const dys = count === b ? dy : r.slice(dy, [first, 0, 0, 0], [count, oh, ow, co]);
    const taps = tapsByRow(r, xs, info, kh, kw);
    products.push(taps.product(r, taps.dyColumns(r, dys)));
  }
  const sum = products.length === 1 ? products[0]! : r.run('AddN', products);
  return r.reshape(sum, [kh, kw, ci, co]);
};

/**
 * Input channels up to which a kernel larger than 1x1 takes keras-bridge's wasm SIMD kernel
 * (a network's first layer, on RGB or grey images): there laying the taps out as a matrix is most
 * of the work, [27, 100352] for MobileNetV2's 3x3 stride-2 stem at batch 8 (104 ms a call, its
 * product 9.5), and the kernel needs no layout at all.
 */
const SMALL_INPUT_CHANNELS = 4;

/** x's and the convolution's geometry as the SIMD filter gradients walk it. */
function filterGeometry(x: tf.TensorInfo, info: Conv2DInfo): FilterGeometry {
  const [batch, height, width] = x.shape as [number, number, number, number];
  const { outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  return { batch, height, width, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, top: info.padInfo.top, left: info.padInfo.left };
}

/** The filter gradient in keras-bridge's wasm SIMD kernel (wasm-simd/conv-filter-gradient.ts), where the output channels are a multiple of 4. */
function convFilterGradientBySimd(r: KernelRunner, x: tf.TensorInfo, dy: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo | undefined {
  const [inChannels, outChannels] = [x.shape[3]!, info.outChannels];
  if (outChannels % 4 !== 0 || dy.dtype !== 'float32') return undefined;
  const kernels = wasmHeapKernels(r.backend);
  if (!kernels) return undefined;
  const wasm = r.backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput([info.filterHeight, info.filterWidth, inChannels, outChannels], 'float32');
  const geometry = filterGeometry(x, info);
  const table = wasm.makeOutput([tapTableWords(geometry)], 'int32');
  const offset = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset / 4;
  try {
    convFilterGradient(kernels.threads(), kernels.outerTaps, kernels.float32Heap(), offset(x), offset(dy), offset(out), offset(table), { ...geometry, inChannels, outChannels });
  } finally {
    wasm.disposeData(table.dataId);
  }
  return out;
}

/** The taps of x as rows by columns, and dy laid out on the same columns: [columns, co]. */
interface Taps {
  columns: number;
  dyColumns(r: KernelRunner, dy: tf.TensorInfo): tf.TensorInfo;
  /** taps · dyColumns: [1, rows, co]. */
  product(r: KernelRunner, dyColumns: tf.TensorInfo): tf.TensorInfo;
}

/**
 * im2col, transposed: [kh·kw·ci, columns], row (i, j, c) holding x_padded[b, oh·sh+i, ow·sw+j, c]
 * for every output pixel. A 1x1 kernel's taps are x itself (every stride-th pixel), transposed.
 *
 * A larger kernel's columns are the pixels of the whole stride-phase grid (hq rows by wq columns
 * per image), not only the output's oh by ow: then tap (i, j) is, in each channel's row of the
 * phase-sorted x, one contiguous run starting at (i/sh)·wq + j/sw, and its slice copies ci runs
 * of the grid's length instead of ci·b·oh runs of ow floats. dy gets zeros on the columns no output
 * pixel has, so they add nothing (0 times a value of x that the slice read from beside the window).
 * On ResNet50's 3x3 shapes the gradient's copies took 5-10 ms a call next to a 6-12 ms product
 * (two threads); the short runs were most of it (docs/wasm-kernels.md).
 */
function tapsByRow(r: KernelRunner, x: tf.TensorInfo, info: Conv2DInfo, kh: number, kw: number): Taps {
  const [b, h, w, ci] = x.shape as [number, number, number, number];
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  // Rows and columns padded (or cut) to whole stride phases: exactly what the taps read.
  const [hq, wq] = [Math.floor((kh - 1) / sh) + oh, Math.floor((kw - 1) / sw) + ow];
  if (kh === 1 && kw === 1) {
    const xp = r.padOrCut(x, [top, hq * sh - h - top], [left, wq * sw - w - left]);
    const taken = sh === 1 && sw === 1 ? xp : r.slice(r.reshape(xp, [b, hq, sh, wq, sw, ci]), [0, 0, 0, 0, 0, 0], [b, oh, 1, ow, 1, ci]);
    const columns = b * oh * ow;
    // xᵀ·dy as one BatchMatMul: its fix (batch-mat-mul-composed.ts) transposes whichever operand
    // leaves the narrower one on the right.
    return {
      columns,
      dyColumns: (runner, dy) => runner.reshape(dy, [columns, dy.shape[3]!]),
      product: (runner, dyColumns) => runner.run('BatchMatMul', { a: runner.reshape(taken, [1, columns, ci]), b: runner.reshape(dyColumns, [1, columns, dyColumns.shape[1]!]) }, { transposeA: true, transposeB: false }),
    };
  }
  // One more grid row per image, which no output reads: the last tap's run reaches up to
  // (kw - 1) / sw columns past the last image's last row.
  const hg = hq + 1;
  const xg = r.padOrCut(x, [top, hg * sh - h - top], [left, wq * sw - w - left]);
  const phases = sh === 1 && sw === 1 ? r.transpose(xg, [3, 0, 1, 2]) : r.reshape(r.transpose(r.reshape(xg, [b, hg, sh, wq, sw, ci]), [2, 4, 5, 0, 1, 3]), [sh * sw * ci, b, hg, wq]);
  const grid = r.reshape(phases, [sh * sw * ci, b * hg * wq]);
  // From the first output pixel of the first image to the last of the last, on the grid.
  const columns = (b - 1) * hg * wq + oh * wq;
  const taps: tf.TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const phase = (i % sh) * sw + (j % sw);
      taps.push(r.slice(grid, [phase * ci, Math.floor(i / sh) * wq + Math.floor(j / sw)], [ci, columns]));
    }
  }
  const dyColumns = (runner: KernelRunner, dy: tf.TensorInfo) => {
    const co = dy.shape[3]!;
    const onGrid = runner.padOrCut(dy, [0, hg - oh], [0, wq - ow]);
    return runner.slice(runner.reshape(onGrid, [b * hg * wq, co]), [0, 0], [columns, co]);
  };
  const rows = kh * kw * ci;
  const all = r.run('Concat', taps, { axis: 0 });
  const product = (runner: KernelRunner, dyRows: tf.TensorInfo) =>
    runner.run('BatchMatMul', { a: runner.reshape(all, [1, rows, columns]), b: runner.reshape(dyRows, [1, columns, dyRows.shape[1]!]) }, { transposeA: false, transposeB: false });
  return { columns, dyColumns, product };
}

/**
 * Depthwise (a channel multiplier above 1 as that many of multiplier 1: outputsByMultiplier),
 * channel multiplier 1: dW[kh,kw,c,0] = Σ_{b,oh,ow} xp[b, oh·sh+kh·dh, ow·sw+kw·dw, c] ·
 * dy[b,oh,ow,c]. The batch folds into the channels ([Hp, Wp, b·c]), dy becomes a depthwise filter
 * dilated by the stride, and the batch is summed out.
 */
export const depthwiseConv2dNativeBackpropFilter: ComposedCompute = (inputs, attrs, r) => {
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const filterShape = attrs['filterShape'] as number[];
  if (!isNhwc(attrs) || x.dtype !== 'float32') return undefined;
  const multiplier = filterShape[3]!;
  if (multiplier > 1) {
    // Each multiplier's [kh, kw, c, 1] gradient from its own output channels, side by side along the last axis.
    const perMultiplier = outputsByMultiplier(r, dy, multiplier).map((dyOfOne) =>
      r.run('DepthwiseConv2dNativeBackpropFilter', { x, dy: dyOfOne }, { ...attrs, filterShape: [...filterShape.slice(0, 3), 1] }),
    );
    return r.run('Concat', perMultiplier, { axis: 3 });
  }
  const info = convInfo(x.shape, filterShape, attrs, true);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const [kh, kw, c] = filterShape as [number, number, number];
  const [b, oh, ow] = [info.batchSize, info.outHeight, info.outWidth];
  const bySimd = depthwiseFilterGradientBySimd(r, x, dy, info);
  if (bySimd) return bySimd;
  const xp = padded(r, x, info);
  const [hp, wp] = [xp.shape[1]!, xp.shape[2]!];
  const folded = b === 1 ? xp : r.reshape(r.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, b * c]);
  const filter = b === 1 ? r.reshape(dy, [oh, ow, c, 1]) : r.reshape(r.transpose(dy, [1, 2, 0, 3]), [oh, ow, b * c, 1]);
  const full = r.run('DepthwiseConv2dNative', { x: folded, filter }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth] });
  const cut = r.slice(full, [0, 0, 0, 0], [1, kh, kw, b * c]);
  const summed = b === 1 ? cut : r.run('Sum', { x: r.reshape(cut, [kh, kw, b, c]) }, { axis: [2], keepDims: false });
  return r.reshape(summed, [kh, kw, c, 1]);
};

/**
 * The depthwise filter gradient in keras-bridge's wasm SIMD kernel on the heap
 * (wasm-simd/depthwise-filter-gradient.ts), where the channels are a multiple of 4 (MobileNet's
 * and EfficientNet's are): the composition below runs XNNPACK's depthwise convolution with dy as a
 * filter of oh·ow taps, far from the small kernels its depthwise code is written for (MobileNetV2
 * at batch 8: 17 calls, 310 ms, against 19 ms for the same layers' forward pass).
 */
function depthwiseFilterGradientBySimd(r: KernelRunner, x: tf.TensorInfo, dy: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo | undefined {
  const channels = x.shape[3]!;
  if (channels % 4 !== 0 || dy.dtype !== 'float32') return undefined;
  const kernels = wasmHeapKernels(r.backend);
  if (!kernels) return undefined;
  const wasm = r.backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput([info.filterHeight, info.filterWidth, channels, 1], 'float32');
  const offset = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset / 4;
  const geometry = filterGeometry(x, info);
  const table = wasm.makeOutput([tapTableWords(geometry)], 'int32');
  try {
    depthwiseFilterGradient(kernels.threads(), kernels.depthwiseTaps, kernels.float32Heap(), offset(x), offset(dy), offset(out), offset(table), { ...geometry, channels });
  } finally {
    wasm.disposeData(table.dataId);
  }
  return out;
}

/**
 * A depthwise convolution's output gradient [b, oh, ow, c·m] as m gradients [b, oh, ow, c], the j-th
 * holding output channels c·m + j: those channel j of the filter makes from each input channel.
 * A channel multiplier m above 1 is m depthwise convolutions of multiplier 1 side by side, each
 * taking the compositions above (tfjs's cpu kernels on the host ran them before).
 */
function outputsByMultiplier(r: KernelRunner, dy: tf.TensorInfo, multiplier: number): tf.TensorInfo[] {
  const [b, oh, ow, channels] = dy.shape as [number, number, number, number];
  const c = channels / multiplier;
  const byChannel = r.reshape(dy, [b, oh, ow, c, multiplier]);
  return Array.from({ length: multiplier }, (_, j) => r.reshape(r.slice(byChannel, [0, 0, 0, 0, j], [b, oh, ow, c, 1]), [b, oh, ow, c]));
}

/** Depthwise, channel multiplier 1 (above 1: outputsByMultiplier): as conv2DBackpropInput, with a depthwise convolution (no channels to swap). */
export const depthwiseConv2dNativeBackpropInput: ComposedCompute = (inputs, attrs, r) => {
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const inputShape = attrs['inputShape'] as number[];
  if (!isNhwc(attrs) || dy.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  const [kh, kw, c, multiplier] = filter.shape as [number, number, number, number];
  if (multiplier > 1) {
    // Each multiplier's input gradient by its [kh, kw, c, 1] slice of the filter, summed.
    const perMultiplier = outputsByMultiplier(r, dy, multiplier).map((dyOfOne, j) =>
      r.run('DepthwiseConv2dNativeBackpropInput', { dy: dyOfOne, filter: r.slice(filter, [0, 0, 0, j], [kh, kw, c, 1]) }, attrs),
    );
    return r.run('AddN', perMultiplier);
  }
  const info = convInfo(inputShape, filter.shape, attrs, true);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const spread = spreadForTurnedKernel(r, dy, inputShape, filter.shape, info);
  if (!spread) return undefined;
  const turned = derivedTensor(r.backend, r.backendName, filter, `turned ${filter.shape}`, (d) => turn(d, filter));
  // XNNPACK's depthwise convolution pads as it reads: no padded copy of dy.
  const pad = [[0, 0], spread.rows, spread.columns, [0, 0]] as tf.backend_util.ExplicitPadding;
  return r.run('DepthwiseConv2dNative', { x: spread.x, filter: turned }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] });
};

/**
 * dx of a convolution. For a 1x1 kernel, and where dy holds at most half as many pixels as the
 * kernel has output channels (the deep, small layers, whose kernels are large), as products: the taps' gradients [kh·kw·ci, b·oh·ow] =
 * W [kh·kw·ci, co] · dyᵀ, each tap's block added back where that tap read x (col2im); the kernel
 * is read as it lies. Elsewhere, the convolution of dy, spread out by the stride (zeros between its
 * pixels) and padded by the kernel size less the forward padding, with the kernel turned by 180
 * degrees and its input and output channels swapped: that turns and copies the whole kernel, which
 * cost 44 ms for a 3x3x512x512 kernel over a 7x7 image (13 ms for its forward pass).
 * tfjs-backend-wasm has this kernel, but as plain loops: 2.7 s of ResNet50's 12 s backward pass at
 * batch 1, against 0.24 s for all its forward convolutions.
 */
export const conv2DBackpropInput: ComposedCompute = (inputs, attrs, r) => {
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const inputShape = attrs['inputShape'] as number[];
  if (!isNhwc(attrs) || dy.dtype !== 'float32') return undefined;
  const info = convInfo(inputShape, filter.shape, attrs, false);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  if (kh === 1 && kw === 1) return inputGradientByProducts(r, dy, filter, inputShape, info, kh, kw, ci, co);
  const turnedName = `turned, channels swapped ${filter.shape}`;
  const turnKernel = (d: KernelRunner) => d.transpose(turn(d, filter), [0, 1, 3, 2]);
  // col2im costs more per tap value than turning the kernel per weight (3x3x256x256 over 14x14
  // pixels: 22 ms as products, 17 ms as a convolution; over 56x56x64 pixels 54 against 9 ms),
  // except where dy is small against the kernel (3x3x512x512 over 7x7: 17 ms against 44 ms). A
  // kernel turned before, or coming again (the same weights' next pass), is kept turned: 10 ms.
  const turned =
    co >= 2 * pixels
      ? derivedTensorIfRepeated(r.backend, r.backendName, filter, turnedName, turnKernel)
      : derivedTensor(r.backend, r.backendName, filter, turnedName, turnKernel);
  if (!turned) return inputGradientByProducts(r, dy, filter, inputShape, info, kh, kw, ci, co);
  const spread = spreadForTurnedKernel(r, dy, inputShape, filter.shape, info);
  if (!spread) return undefined;
  // The convolution pads as it reads (XNNPACK), or once to its whole tiles (Winograd): no padded copy of dy first.
  const pad = [[0, 0], spread.rows, spread.columns, [0, 0]] as tf.backend_util.ExplicitPadding;
  return r.run('Conv2D', { x: spread.x, filter: turned }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], [INPUT_GRADIENT_ATTR]: true });
};

/**
 * dx = col2im(W · dyᵀ): tap (i, j)'s block of the product, [ci, b, oh, ow], spread by the stride
 * and shifted to (i - top, j - left), summed over the taps, then transposed to NHWC. A 1x1 kernel
 * has one tap: dx = dy · Wᵀ, taking Wᵀ explicitly where the kernel is the smaller of the two.
 */
function inputGradientByProducts(r: KernelRunner, dy: tf.TensorInfo, filter: tf.TensorInfo, inputShape: number[], info: Conv2DInfo, kh: number, kw: number, ci: number, co: number): tf.TensorInfo {
  const [b, h, w] = inputShape as [number, number, number];
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const pixels = b * oh * ow;
  if (kh === 1 && kw === 1 && ci * co <= pixels * (co + ci)) {
    // dy · Wᵀ as the 1x1 convolution of dy by Wᵀ kept as a [1, 1, co, ci] filter: the backend's
    // Conv2D, which runs it in keras-bridge's tiles where they pay (conv-pointwise.ts), else XNNPACK,
    // which keeps its packing per filter as it does for a product's kept right operand.
    const kernelT = derivedTensor(r.backend, r.backendName, filter, `as [1, 1, co, ci] ${filter.shape}`, (d) => d.reshape(d.transpose(d.reshape(filter, [ci, co]), [1, 0]), [1, 1, co, ci]));
    const g = r.run('Conv2D', { x: dy, filter: kernelT }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
    return r.padOrCut(r.spread(g, sh, sw), [0, h - oh * sh], [0, w - ow * sw]);
  }
  const dyT = r.transpose(r.reshape(dy, [pixels, co]), [1, 0]);
  const taps = r.run('BatchMatMul', { a: r.reshape(filter, [1, kh * kw * ci, co]), b: r.reshape(dyT, [1, co, pixels]) }, { transposeA: false, transposeB: false });
  // Each tap's block as an NHWC-like [ci·b, oh, ow, 1] image, placed in a frame padded by the forward padding.
  const [hp, wp] = [Math.max(h + top, (oh - 1) * sh + kh), Math.max(w + left, (ow - 1) * sw + kw)];
  const placed: tf.TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const block = r.reshape(r.slice(taps, [0, (i * kw + j) * ci, 0], [1, ci, pixels]), [ci * b, oh, ow, 1]);
      const spread = r.spread(block, sh, sw); // [ci·b, oh·sh, ow·sw, 1]
      placed.push(r.padOrCut(spread, [i, hp - i - oh * sh], [j, wp - j - ow * sw]));
    }
  }
  const frame = placed.length === 1 ? placed[0]! : r.run('AddN', placed);
  const inner = r.slice(frame, [0, top, left, 0], [ci * b, h, w, 1]);
  return r.transpose(r.reshape(inner, [ci, b, h, w]), [1, 2, 3, 0]);
}

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
 * dy laid out so that a correlation with the turned kernel gives dx: each pixel followed by
 * stride-1 zeros (`x`), then padded by `rows` and `columns` so that dx[i] = Σ_k spread[i + top - k]
 * · f[k] for every input row i; spread rows no input row receives from are cut from `x`.
 * Undefined where the forward padding is larger than the kernel (only explicit padding can be).
 */
function spreadForTurnedKernel(r: KernelRunner, dy: tf.TensorInfo, inputShape: number[], filterShape: number[], info: Conv2DInfo): { x: tf.TensorInfo; rows: [number, number]; columns: [number, number] } | undefined {
  const [h, w] = [inputShape[1]!, inputShape[2]!];
  const [kh, kw] = [filterShape[0]!, filterShape[1]!];
  const [oh, ow] = [info.outHeight, info.outWidth];
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const [padTop, padLeft] = [kh - 1 - top, kw - 1 - left];
  if (padTop < 0 || padLeft < 0) return undefined;
  const [padBottom, padRight] = [h + kh - 1 - padTop - oh * sh, w + kw - 1 - padLeft - ow * sw];
  const spread = r.spread(dy, sh, sw);
  const x = padBottom < 0 || padRight < 0 ? r.slice(spread, [0, 0, 0, 0], [dy.shape[0]!, oh * sh + Math.min(0, padBottom), ow * sw + Math.min(0, padRight), dy.shape[3]!]) : spread;
  return { x, rows: [padTop, Math.max(0, padBottom)], columns: [padLeft, Math.max(0, padRight)] };
}
