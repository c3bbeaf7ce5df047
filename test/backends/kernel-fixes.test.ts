import assert from 'node:assert/strict';
import tf from '#tfjs';
import { activeBackendName, probeBackend, useBackend, type BackendName } from '../../src/backends/index.js';
import { composedFallbacks } from '../../src/backends/kernel-fixes/composed-kernel.js';
import { winogradFrom } from '../../src/backends/kernel-fixes/winograd-conv2d.js';
import { im2colBlock } from '../../src/backends/kernel-fixes/conv-backprop-composed.js';
import { KERNEL_FIXES, registerKernelFixes } from '../../src/backends/kernel-fixes/index.js';
import { avgPoolGradFrom } from '../../src/backends/kernel-fixes/avg-pool-grad-composed.js';

/** Deterministic values in (-1, 1), different for each seed. */
function values(shape: number[], seed: number, shift = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 7919 + i * 12.9898) + shift), shape);
}

/**
 * One op whose forward or backward pass runs a kernel we install. `f` is linear, or positively
 * homogeneous of degree 1 (max pooling), in each argument listed in `wrt`.
 */
interface KernelCase {
  kernels: string[];
  f: (...args: tf.Tensor[]) => tf.Tensor;
  args: () => tf.Tensor[];
  wrt: number[];
  /**
   * On wasm, the kernels composed from wasm's own or written for its heap: `composed` must not fall
   * back (to JavaScript, or to tfjs's kernel for a 'slow' fix), `fallback` must (a case not covered).
   */
  wasmPath?: 'composed' | 'fallback';
  /** Backends the op itself does not run on, with why. */
  notOn?: Partial<Record<BackendName, string>>;
  /** Runs the case (forward and backward) under settings of its own, restored after. */
  around?: <T>(run: () => T) => T;
}

/** Runs a case with Winograd's threshold at 0, so that the small cases here reach it on wasm. */
/** Average pooling's gradient composed on wasm for any size (avg-pool-grad-composed.ts: the cases here are small). */
function withComposedAvgPoolGradient<T>(run: () => T): T {
  const elements = avgPoolGradFrom.elements;
  avgPoolGradFrom.elements = 0;
  try {
    return run();
  } finally {
    avgPoolGradFrom.elements = elements;
  }
}

function withWinogradForEverySize<T>(run: () => T): T {
  const macs = winogradFrom.macs;
  winogradFrom.macs = 0;
  try {
    return run();
  } finally {
    winogradFrom.macs = macs;
  }
}

// Max pooling inputs are shifted below zero: wasm 4.22 starts its max at the smallest *positive*
// float, so an all-negative window picked its first element whatever the values.
const CASES: Record<string, KernelCase> = {
  'conv2d stride 2 same': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    args: () => [values([2, 5, 5, 3], 1), values([3, 2, 3, 4], 2)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 3x3 stride 1 same, one image': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
    args: () => [values([1, 6, 7, 4], 21), values([3, 3, 4, 5], 22)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 3x3 stride 1 same, odd sizes (wasm: Winograd F(2x2, 3x3) forward and for the input gradient)': {
    kernels: ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
    args: () => [values([2, 7, 5, 8], 62), values([3, 3, 8, 12], 63)],
    wrt: [0, 1],
    wasmPath: 'composed',
    around: withWinogradForEverySize,
  },
  'fused conv2d 3x3 stride 1 valid with relu (wasm: Winograd, relu clamped in its output transform)': {
    kernels: ['FusedConv2D'],
    f: (x, w) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'valid', activation: 'relu' }),
    args: () => [values([1, 6, 9, 4], 64), values([3, 3, 4, 8], 65)],
    wrt: [0, 1],
    wasmPath: 'composed',
    around: withWinogradForEverySize,
  },
  'conv2d 1x1 stride 2 valid, odd sizes (the strided 1x1 of ResNet)': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'valid'),
    args: () => [values([3, 7, 6, 3], 23), values([1, 1, 3, 4], 24)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 7x7 stride 2 same, 3 input channels to 8 (wasm dW: the SIMD kernel without im2col)': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    args: () => [values([2, 12, 11, 3], 58), values([7, 7, 3, 8], 59)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 7x7 stride 2 same, leftover rows (the stem of ResNet)': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    args: () => [values([2, 12, 11, 3], 25), values([7, 7, 3, 2], 26)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 3x3 stride 3 valid, rows the kernel never reaches': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 3, 'valid'),
    args: () => [values([2, 10, 11, 2], 27), values([3, 3, 2, 3], 28)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 3x3 stride 2 same, the batch taken in im2col chunks of two images and one': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    args: () => [values([5, 7, 8, 3], 31), values([3, 3, 3, 4], 32)],
    wrt: [0, 1],
    wasmPath: 'composed',
    // One image's taps: 3·3·3 rows by 4·4 output pixels.
    around: (run) => {
      const saved = im2colBlock.elements;
      im2colBlock.elements = 2 * 27 * 16;
      try {
        return run();
      } finally {
        im2colBlock.elements = saved;
      }
    },
  },
  'conv2d 3x3 stride 1 same, more output channels than output pixels (dx as a product, then col2im)': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
    args: () => [values([1, 3, 4, 2], 33), values([3, 3, 2, 16], 34)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 3x2 stride 2 same, batch of 2, dx as a product then col2im': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    args: () => [values([2, 5, 4, 3], 35), values([3, 2, 3, 24], 36)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 2x2 stride 3 valid, rows no tap reads, dx as a product then col2im': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 3, 'valid'),
    args: () => [values([1, 7, 8, 2], 37), values([2, 2, 2, 20], 38)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 1x1 stride 1, fewer output channels than input (dW as xT·dy, dy on the right)': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'),
    args: () => [values([2, 3, 4, 12], 46), values([1, 1, 12, 5], 47)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv2d 1x1 stride 1, wide kernel (dx as dyT products; dW as (dyT·x)T, x on the right)': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'),
    args: () => [values([1, 2, 2, 24], 39), values([1, 1, 24, 40], 40)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'relu6 below its cap, where it is relu (its gradient on wasm: wasm-relu-gradients.ts; the cap in native-gradients.test.ts)': {
    kernels: ['KerasBridgeRelu6Grad'],
    f: (x) => tf.relu6(x),
    args: () => [values([3, 4, 5], 51)],
    wrt: [0],
  },
  'erf of a weight times x, 31 values (wasm: erf in SIMD, 7 vectors and a tail of 3)': {
    kernels: ['Erf'],
    // Linear in x; erf's own accuracy is pinned in erf.test.ts.
    f: (x, w) => tf.mul(x!, tf.erf(w!)),
    args: () => [values([31], 66), tf.mul(values([31], 67), 2)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'exp of a weight times x, 31 values (wasm: tfjs-backend-wasm\'s expf in SIMD, 7 vectors and a tail of 3)': {
    kernels: ['Exp'],
    // Linear in x; exp's values against tfjs's own kernel are pinned in exp.test.ts.
    f: (x, w) => tf.mul(x!, tf.exp(w!)),
    args: () => [values([31], 68), tf.mul(values([31], 69), 3)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'relu, 63 values (on wasm the forward pass a SIMD clamp, heap-clamp.ts, and its gradient one SIMD pass and a tail, wasm-relu-gradients.ts)': {
    kernels: ['KerasBridgeReluGrad', 'Relu'],
    f: (x) => tf.relu(x),
    args: () => [values([7, 9], 62)],
    wrt: [0],
  },
  'conv2d explicit padding wider than the kernel': {
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, [[0, 0], [3, 1], [2, 2], [0, 0]]),
    args: () => [values([2, 4, 5, 2], 29), values([2, 2, 2, 3], 30)],
    wrt: [0, 1],
    wasmPath: 'fallback',
    notOn: { tensorflow: "tfjs-node's conv2d takes only 'valid' and 'same' padding" },
  },
  'depthwise conv2d, multiplier 2 (on wasm, as two of multiplier 1)': {
    kernels: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    args: () => [values([2, 5, 5, 2], 3), values([3, 3, 2, 2], 4)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'depthwise conv2d, multiplier 3, stride 1 valid, 5 channels': {
    kernels: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'),
    args: () => [values([1, 6, 7, 5], 54), values([2, 3, 5, 3], 55)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'depthwise conv2d, multiplier 1, stride 2 same (MobileNet)': {
    kernels: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    args: () => [values([3, 7, 6, 4], 31), values([3, 3, 4, 1], 32)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'depthwise conv2d 5x5, multiplier 1, stride 2 same, 20 channels (wasm dW: SIMD rows of 16 and 4 channels)': {
    kernels: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
    args: () => [values([2, 9, 8, 20], 52), values([5, 5, 20, 1], 53)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'depthwise conv2d 3x3, multiplier 1, stride 1 same, 16 channels': {
    kernels: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
    args: () => [values([1, 6, 7, 16], 54), values([3, 3, 16, 1], 55)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'depthwise conv2d 1x1, multiplier 1, stride 2 valid, odd size (dy spread, then cut at the far end)': {
    kernels: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'valid'),
    args: () => [values([2, 7, 5, 4], 56), values([1, 1, 4, 1], 57)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'depthwise conv2d, multiplier 1, stride 1 valid, one image': {
    kernels: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'),
    args: () => [values([1, 6, 5, 3], 33), values([2, 3, 3, 1], 34)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  // tfjs runs DepthwiseConv1D and SeparableConv1D as 2-D convolutions of height 1: strides [1, 2],
  // which TensorFlow's CPU kernels refuse without oneDNN (AVX2 machines); tensorflow-depthwise-strides.ts.
  'depthwise conv1d as conv2d of height 1, strides [1, 2] same, multiplier 2': {
    kernels: ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, [1, 2], 'same'),
    args: () => [values([2, 1, 9, 3], 35), values([1, 3, 3, 2], 36)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'depthwise conv1d as conv2d of width 1, strides [3, 1] valid': {
    kernels: ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, [3, 1], 'valid'),
    args: () => [values([1, 10, 1, 2], 37), values([4, 1, 2, 1], 38)],
    wrt: [0, 1],
  },
  'matMul of transposed operands, batched (wasm: transposed explicitly, then a plain product)': {
    kernels: ['BatchMatMul'],
    f: (a, b) => tf.matMul(a!, b!, true, true),
    args: () => [values([2, 5, 3], 40), values([2, 4, 5], 41)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'matMul aT·b of one batch, b the wider (wasm: (bT·a)T, the narrower operand on the right)': {
    kernels: ['BatchMatMul'],
    f: (a, b) => tf.matMul(a!, b!, true, false),
    args: () => [values([40, 6], 48), values([40, 20], 49)],
    // b's gradient is a plain product (tfjs's own kernel): a's only.
    wrt: [0],
    wasmPath: 'composed',
  },
  'matMul aT·b of one batch, b the narrower (wasm: a transposed)': {
    kernels: ['BatchMatMul'],
    f: (a, b) => tf.matMul(a!, b!, true, false),
    args: () => [values([1, 40, 20], 50), values([1, 40, 6], 51)],
    // b's gradient is a plain product (tfjs's own kernel): a's only.
    wrt: [0],
    wasmPath: 'composed',
  },
  'matMul of 2x3 batches of [32, 24]·[24, 32] (wasm: SIMD tiles)': {
    kernels: ['BatchMatMul'],
    f: (a, b) => tf.matMul(a!, b!),
    args: () => [values([2, 3, 32, 24], 42), values([2, 3, 24, 32], 43)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'matMul of 3 batches of [32, 24]·[32, 24]ᵀ (wasm: transposed, then SIMD tiles)': {
    kernels: ['BatchMatMul'],
    f: (a, b) => tf.matMul(a!, b!, false, true),
    args: () => [values([3, 32, 24], 44), values([3, 32, 24], 45)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'fused matMul with relu, 3 batches of [9, 12]·[12, 10] (wasm: SIMD tiles, then the activation)': {
    kernels: ['_FusedMatMul'],
    f: (a, b) => tf.fused.matMul({ a: a as tf.Tensor3D, b: b as tf.Tensor3D, activation: 'relu' }),
    args: () => [values([3, 9, 12], 52), values([3, 12, 10], 53)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'broadcast arithmetic with a LayerNormalization\'s shapes (wasm: SIMD rows; equal shapes stay tfjs\'s)': {
    kernels: ['Add', 'Sub', 'Multiply', 'RealDiv'],
    // Linear in x and in g: a column, a row, a column, a scalar and a row broadcast in turn.
    f: (x, g) => tf.add(tf.div(tf.sub(tf.mul(tf.mul(x!, tf.tensor3d([[[0.5], [2], [-1]], [[1.5], [0.25], [3]]])), g!), tf.zeros([2, 3, 1])), tf.scalar(4)), tf.zeros([8])),
    args: () => [values([2, 3, 8], 60), values([8], 61)],
    wrt: [0, 1],
  },
  'batch norm over channels (its gradient, replaced on every backend)': {
    kernels: ['FusedBatchNorm gradient'],
    // Zero mean and offset: linear in x and in the scale, as Euler's identity needs.
    f: (x, scale) => tf.batchNorm(x!, tf.zeros([3]), tf.tensor1d([0.5, 2, 1.5]), tf.zeros([3]), scale as tf.Tensor1D, 1e-3),
    args: () => [values([2, 4, 3, 3], 35), values([3], 36)],
    wrt: [0, 1],
  },
  'batch norm over 8 channels (wasm: forward and gradients in one SIMD pass each)': {
    kernels: ['FusedBatchNorm', 'FusedBatchNorm gradient', 'KerasBridgeFusedBatchNormGrad'],
    // Zero mean and offset: linear in x and in the scale, as Euler's identity needs (wasm-batch-norm.test.ts checks the rest).
    f: (x, scale) => tf.batchNorm(x!, tf.zeros([8]), tf.tensor1d([0.5, 2, 1.5, 1, 0.25, 3, 0.75, 1.25]), tf.zeros([8]), scale as tf.Tensor1D, 1e-3),
    args: () => [values([2, 4, 3, 8], 56), values([8], 57)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'batch norm over channels, statistics shaped [1, 1, 1, C] (wasm: a multiply and an add)': {
    kernels: ['FusedBatchNorm'],
    // Zero mean and offset: linear in x and in the scale (batch-norm-mul-add.test.ts checks the rest).
    f: (x, scale) => tf.batchNorm(x!, tf.zeros([1, 1, 1, 3]), tf.tensor([0.5, 2, 1.5], [1, 1, 1, 3]), tf.zeros([1, 1, 1, 3]), scale!.reshape([1, 1, 1, 3]), 1e-3),
    args: () => [values([2, 4, 3, 3], 37), values([3], 38)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'tile of a row over 6 tokens, as LayerNormalization broadcasts (its gradient, replaced on every backend)': {
    kernels: ['Tile gradient'],
    f: (x) => tf.tile(x!, [2, 6, 1]),
    args: () => [values([1, 1, 5], 42)],
    wrt: [0],
  },
  'tile of rank 5, beyond tfjs-core 4.22 gradient (rank 4 at most)': {
    kernels: ['Tile gradient'],
    f: (x) => tf.tile(x!, [1, 2, 1, 3, 2]),
    args: () => [values([2, 2, 3, 1, 2], 43)],
    wrt: [0],
  },
  'conv3d valid': {
    kernels: ['Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'],
    f: (x, w) => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, 'valid'),
    args: () => [values([2, 4, 4, 4, 2], 5), values([2, 2, 2, 2, 3], 6)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv3d stride 2 same': {
    kernels: ['Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'],
    f: (x, w) => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 2, 'same'),
    args: () => [values([2, 4, 4, 4, 2], 7), values([3, 3, 3, 2, 3], 8)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv3d strides [2, 1, 3] same, a [3, 2, 1] kernel over odd sizes (depth taps past both ends)': {
    kernels: ['Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'],
    f: (x, w) => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, [2, 1, 3], 'same'),
    args: () => [values([1, 5, 3, 7, 3], 46), values([3, 2, 1, 3, 4], 47)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv3d strides [3, 2, 1] valid, depth 7 (input slices no output reads)': {
    kernels: ['Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'],
    f: (x, w) => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, [3, 2, 1], 'valid'),
    args: () => [values([2, 7, 5, 4, 2], 48), values([2, 3, 2, 2, 2], 49)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'conv3dTranspose stride 2 same (and its gradient)': {
    kernels: ['Conv3DBackpropInputV2'],
    f: (x, w) => tf.conv3dTranspose(x as tf.Tensor5D, w as tf.Tensor5D, [2, 4, 4, 4, 2], 2, 'same'),
    args: () => [values([2, 2, 2, 2, 3], 9), values([3, 3, 3, 2, 3], 10)],
    wrt: [0, 1],
    wasmPath: 'composed',
  },
  'maxPool same, all windows negative': {
    kernels: ['MaxPoolGrad'],
    f: (x) => tf.maxPool(x as tf.Tensor4D, [3, 2], [2, 1], 'same'),
    args: () => [values([2, 5, 5, 2], 11, -1.5)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'maxPool 3x3 stride 2 same, ties (zeros after a ReLU: the first of equal maxima takes the gradient)': {
    kernels: ['MaxPoolGrad'],
    f: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'),
    args: () => [tf.relu(values([2, 7, 6, 3], 37, -0.6))],
    wrt: [0],
    wasmPath: 'composed',
  },
  'maxPool 2x2 stride 3 valid, rows no window reads': {
    kernels: ['MaxPoolGrad'],
    f: (x) => tf.maxPool(x as tf.Tensor4D, 2, 3, 'valid'),
    args: () => [values([1, 8, 7, 2], 38)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'sum over batch, rows and columns (a bias gradient), kept dims': {
    kernels: ['Sum'],
    f: (x) => tf.sum(x!, [0, 1, 2], true),
    args: () => [values([2, 5, 6, 7], 41)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'mean over rows and columns of each image (global average pooling), a size-1 axis among them': {
    kernels: ['Mean'],
    f: (x) => tf.mean(x!, [1, 2, 3]),
    args: () => [values([3, 9, 1, 8, 5], 42)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'sum over the innermost axis, and over axes split by a kept one (tfjs own kernel)': {
    kernels: ['Sum'],
    f: (x) => tf.concat([tf.reshape(tf.sum(x!, -1), [-1]), tf.sum(x!, [0, 2])]),
    args: () => [values([4, 4, 4], 43)],
    wrt: [0],
    wasmPath: 'fallback',
  },
  'maxPool3d same, all windows negative': {
    kernels: ['MaxPool3D', 'MaxPool3DGrad'],
    f: (x) => tf.maxPool3d(x as tf.Tensor5D, 2, 2, 'same'),
    args: () => [values([2, 3, 3, 3, 2], 12, -1.5)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'maxPool3d 2 stride 1 same, ties (zeros after a ReLU: the first of equal maxima in depth, row, column order takes the gradient)': {
    kernels: ['MaxPool3D', 'MaxPool3DGrad'],
    f: (x) => tf.maxPool3d(x as tf.Tensor5D, 2, 1, 'same'),
    args: () => [tf.relu(values([2, 3, 4, 3, 2], 53, -0.7))],
    wrt: [0],
    wasmPath: 'composed',
  },
  'maxPool3d [3, 2, 3] strides [1, 2, 2] valid, overlapping depth windows': {
    kernels: ['MaxPool3D', 'MaxPool3DGrad'],
    f: (x) => tf.maxPool3d(x as tf.Tensor5D, [3, 2, 3], [1, 2, 2], 'valid'),
    args: () => [values([2, 5, 6, 7, 3], 50, -0.5)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'avgPool stride 2 same, partial windows': {
    kernels: ['AvgPoolGrad', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'),
    args: () => [values([2, 5, 5, 2], 13)],
    wrt: [0],
    wasmPath: 'composed',
    around: withComposedAvgPoolGradient,
  },
  'avgPool 3x3 stride 1 same (an Inception branch), partial windows at every edge': {
    kernels: ['AvgPoolGrad', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x) => tf.avgPool(x as tf.Tensor4D, 3, 1, 'same'),
    args: () => [values([2, 6, 7, 4], 44)],
    wrt: [0],
    wasmPath: 'composed',
    around: withComposedAvgPoolGradient,
  },
  'avgPool 3x3 stride 2 same, small (the exact loop, over wasm\'s heap)': {
    kernels: ['AvgPoolGrad'],
    f: (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'),
    args: () => [values([2, 5, 6, 3], 57)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'avgPool 2x2 stride 2 valid (a DenseNet transition): whole windows, one scale': {
    kernels: ['AvgPoolGrad', 'DepthwiseConv2dNativeBackpropInput'],
    f: (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'),
    args: () => [values([3, 8, 6, 5], 45)],
    wrt: [0],
    wasmPath: 'composed',
    around: withComposedAvgPoolGradient,
  },
  'avgPool3d stride 1 same, partial windows': {
    kernels: ['AvgPool3DGrad'],
    f: (x) => tf.avgPool3d(x as tf.Tensor5D, 2, 1, 'same'),
    args: () => [values([2, 3, 3, 3, 2], 14)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'avgPool3d [3, 2, 2] strides [2, 1, 2] same, partial windows of every size': {
    kernels: ['AvgPool3DGrad'],
    f: (x) => tf.avgPool3d(x as tf.Tensor5D, [3, 2, 2], [2, 1, 2], 'same'),
    args: () => [values([2, 5, 4, 5, 3], 51)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'avgPool3d 2 stride 2 valid, an odd depth left over': {
    kernels: ['AvgPool3DGrad'],
    f: (x) => tf.avgPool3d(x as tf.Tensor5D, 2, 2, 'valid'),
    args: () => [values([1, 5, 4, 4, 2], 52)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'a clone times a weight, cast to float32 (Identity: tensor.clone(), and the copy the tape keeps of each saved input; its gradient, a Cast to float32)': {
    kernels: ['Identity', 'Cast'],
    f: (x, w) => tf.cast(tf.mul(tf.clone(x!), w!), 'float32'),
    args: () => [values([3, 4], 17), values([4], 18)],
    wrt: [0, 1],
  },
  'slices of a rank-4 and a rank-5 tensor, inner axes cut (Slice read in place on wasm)': {
    kernels: ['Slice'],
    f: (x, y) => tf.mul(tf.reshape(tf.slice(x!, [1, 0, 2, 1], [2, 3, 2, 2]), [2, 3, 4]), tf.reshape(tf.slice(y!, [0, 1, 0, 1, 0], [2, 1, 3, 2, 2]), [2, 3, 4])),
    args: () => [values([3, 3, 5, 4], 19), values([2, 3, 3, 4, 2], 20)],
    wrt: [0, 1],
  },
  'pads of a rank-4 image batch and of a rank-5 tensor on its outer axes (PadV2 by runs on wasm; a constant other than 0 in heap-pad.test.ts), and their gradients': {
    kernels: ['PadV2'],
    f: (x, y) => tf.mul(tf.pad(x!, [[0, 0], [1, 2], [2, 1], [0, 0]]), tf.reshape(tf.sum(tf.pad(y!, [[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]])), [1, 1, 1, 1])),
    args: () => [values([2, 3, 4, 2], 25), values([2, 1, 3, 2, 2], 26)],
    wrt: [0, 1],
  },
  'transposes that move no value (identity; length-1 axes moved) and one that does, and their gradients': {
    kernels: ['Transpose'],
    f: (x, y) => tf.matMul(tf.transpose(tf.transpose(tf.transpose(x!, [1, 0]), [1, 0]), [0, 1]), tf.reshape(tf.transpose(y!, [1, 0, 2]), [4, 3])),
    args: () => [values([3, 4], 21), values([1, 4, 3], 22)],
    wrt: [0, 1],
  },
  'tiles and broadcasts: a scalar per row, inner and outer axes, a size-1 tensor, nothing tiled (Tile by copies in wasm\'s heap)': {
    kernels: ['Tile'],
    f: (x, y) => tf.mul(
      tf.add(tf.add(tf.tile(x!, [2, 1, 3]), tf.broadcastTo(tf.reshape(tf.slice(x!, [0, 0, 0], [1, 3, 1]), [1, 3, 1]), [2, 3, 6])), tf.tile(tf.reshape(tf.slice(x!, [0, 0, 0], [1, 1, 1]), [1, 1, 1]), [2, 3, 6])),
      tf.tile(y!, [1, 1, 1])),
    args: () => [values([1, 3, 2], 23), values([2, 3, 6], 24)],
    wrt: [0, 1],
  },
  'gather rows of a table, a row twice (embedding lookup; rows of 3, not whole SIMD vectors: a loop over wasm\'s heap)': {
    kernels: ['UnsortedSegmentSum'],
    f: (table) => tf.gather(table!, tf.tensor1d([2, 0, 2, 3], 'int32')),
    args: () => [values([4, 3], 16)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'gather rows of 5 by a batch of sequences, ids repeated and a row never read (a loop over wasm\'s heap)': {
    kernels: ['UnsortedSegmentSum'],
    f: (table) => tf.gather(table!, tf.tensor2d([[1, 4, 1], [0, 1, 3]], [2, 3], 'int32')),
    args: () => [values([5, 5], 56)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'gather rows of 8 from a table of 10 by a batch of sequences, ids repeated and rows never read (an Embedding layer; scattered in wasm SIMD)': {
    kernels: ['UnsortedSegmentSum'],
    f: (table) => tf.gather(table!, tf.tensor2d([[7, 1, 7], [0, 7, 9]], [2, 3], 'int32')),
    args: () => [values([10, 8], 46)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'gather along axis 1 (the gradient transposes, then sums segments of rows of 12)': {
    kernels: ['UnsortedSegmentSum'],
    f: (x) => tf.gather(x!, tf.tensor1d([3, 3, 0], 'int32'), 1),
    args: () => [values([12, 5], 47)],
    wrt: [0],
    wasmPath: 'composed',
  },
  'resizeNearestNeighbor x2 x3, batch of 2': {
    kernels: ['ResizeNearestNeighborGrad'],
    f: (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [6, 6]),
    args: () => [values([2, 3, 2, 2], 15)],
    wrt: [0],
  },
};

interface CaseResult {
  output: Float32Array;
  gradients: Float32Array[];
  /** For each argument in wrt: sum(f · cotangent) minus sum(argument · its gradient), and the scale. */
  euler: Array<{ gap: number; scale: number }>;
}

/** Runs a case on the active backend: f, the gradients of sum(f · cotangent), and Euler's identity. */
function runCase(c: KernelCase): CaseResult {
  return c.around ? c.around(() => runCaseAsIs(c)) : runCaseAsIs(c);
}

function runCaseAsIs(c: KernelCase): CaseResult {
  return tf.tidy(() => {
    const args = c.args();
    const output = c.f(...args);
    const cotangent = values(output.shape, 99);
    const loss = (...wrtArgs: tf.Tensor[]) => {
      const all = args.map((a, i) => (c.wrt.includes(i) ? wrtArgs[c.wrt.indexOf(i)]! : a));
      // Reduced by a kernel the case does not test, so that the paths it checks are the case's own.
      const weighted = c.f(...all);
      if (c.kernels.includes('Sum')) return tf.reshape(tf.matMul(tf.reshape(weighted, [1, -1]), tf.reshape(cotangent, [-1, 1])), []);
      return tf.sum(tf.mul(weighted, cotangent));
    };
    const gradients = tf.grads(loss)(c.wrt.map((i) => args[i]!));
    const dot = (a: tf.Tensor, b: tf.Tensor) => hostDot(a, b, (v) => v);
    const absDot = (a: tf.Tensor, b: tf.Tensor) => hostDot(a, b, Math.abs);
    const value = dot(output, cotangent);
    return {
      output: output.dataSync() as Float32Array,
      gradients: gradients.map((g) => g.dataSync() as Float32Array),
      euler: c.wrt.map((i, k) => ({ gap: value - dot(args[i]!, gradients[k]!), scale: absDot(args[i]!, gradients[k]!) })),
    };
  });
}

/** sum(map(a·b)) in float64 on the host. */
function hostDot(a: tf.Tensor, b: tf.Tensor, map: (v: number) => number): number {
  const [av, bv] = [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
  let total = 0;
  for (let i = 0; i < av.length; i++) total += map(av[i]! * bv[i]!);
  return total;
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i]!)), 0);
}

describe('kernels keras-bridge installs on cpu and wasm (docs/wasm-kernels.md)', function () {
  const backends: BackendName[] = [];
  const reference = new Map<string, CaseResult>();
  let previous: string | undefined;

  before(async function () {
    previous = activeBackendName();
    for (const name of ['cpu', 'wasm', 'tensorflow'] as const) {
      if ((await probeBackend(name)).available) backends.push(name);
    }
    await useBackend('cpu');
    for (const [name, c] of Object.entries(CASES)) reference.set(name, runCase(c));
  });

  after(async function () {
    await tf.setBackend(previous ?? 'cpu');
  });

  it('every kernel we install is exercised by a case below', function () {
    // Kernels with no gradient of their own to check here (the gelu activation's custom gradient pairs them): tested in their own files.
    const forwardOnly = { KerasBridgeGelu: 'test/backends/gelu.test.ts', KerasBridgeGeluGradient: 'test/backends/gelu.test.ts', KerasBridgeSoftmaxGrad: 'test/backends/softmax-gradient.test.ts', KerasBridgeLayerNorm: 'test/backends/layer-norm.test.ts', KerasBridgeLayerNormStatistics: 'test/backends/layer-norm.test.ts', KerasBridgeLayerNormInputGradient: 'test/backends/layer-norm.test.ts' };
    const covered = new Set([...Object.values(CASES).flatMap((c) => c.kernels), ...Object.keys(forwardOnly)]);
    assert.ok(tf.getGradient('FusedBatchNorm') !== undefined && covered.has('FusedBatchNorm gradient'));
    for (const fix of [...KERNEL_FIXES.cpu, ...KERNEL_FIXES.wasm]) assert.ok(covered.has(fix.kernelName), fix.kernelName);
  });

  it('wasm has every kernel of its list once set up, and installing again changes nothing', async function () {
    if (!backends.includes('wasm')) this.skip();
    await useBackend('wasm');
    for (const fix of KERNEL_FIXES.wasm) assert.ok(tf.getKernel(fix.kernelName, 'wasm'), fix.kernelName);
    assert.deepEqual(registerKernelFixes('wasm'), []);
    assert.deepEqual(registerKernelFixes('cpu'), []);
    assert.ok(tf.getGradient('Conv3DBackpropInputV2'), 'the conv3dTranspose gradient is registered');
  });

  it("MaxPool3DGrad sends a window's gradient to every element equal to its maximum, as TensorFlow's kernel does (its 2D kernel picks the first)", async function () {
    // One 2x2x2 window holding the maximum 3 five times, and a 2x2 one holding it three times.
    const volume = [1, 3, 3, 0, 3, 0, 3, 3];
    const plane = [3, 3, 0, 3];
    for (const backend of backends) {
      await useBackend(backend);
      const dVolume = tf.grad((x) => tf.mul(tf.maxPool3d(x as tf.Tensor5D, 2, 2, 'valid'), 2).sum())(tf.tensor5d(volume, [1, 2, 2, 2, 1]));
      assert.deepEqual([...(await dVolume.data())], [0, 2, 2, 0, 2, 0, 2, 2], backend);
      const dPlane = tf.grad((x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid').sum())(tf.tensor4d(plane, [1, 2, 2, 1]));
      assert.deepEqual([...(await dPlane.data())], [1, 0, 0, 0], backend);
    }
  });

  for (const [name, c] of Object.entries(CASES)) {
    describe(`${name} (${c.kernels.join(', ')})`, function () {
      for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
        it(`on ${backend}: gradients satisfy sum(f·w) = sum(x·∂/∂x sum(f·w)), and match cpu`, async function () {
          if (!backends.includes(backend) || c.notOn?.[backend]) this.skip();
          await useBackend(backend);
          const fallbacks = c.kernels.map((k) => composedFallbacks.get(k) ?? 0);
          const result = runCase(c);
          if (backend === 'wasm' && c.wasmPath) {
            const fellBack = c.kernels.some((k, i) => (composedFallbacks.get(k) ?? 0) > fallbacks[i]!);
            assert.equal(fellBack, c.wasmPath === 'fallback', `wasm ${c.wasmPath === 'composed' ? 'fell back to JavaScript' : 'did not fall back'} for ${c.kernels.join(', ')}`);
          }
          // f is linear (or degree-1 homogeneous) in each argument: Euler's identity checks each
          // gradient against the forward pass, with no other backend as the reference.
          for (const [k, { gap, scale }] of result.euler.entries()) {
            assert.ok(Math.abs(gap) <= 1e-5 * scale + 1e-6, `argument ${c.wrt[k]}: identity off by ${gap} (scale ${scale})`);
          }
          const expected = reference.get(name)!;
          assert.ok(maxAbsDifference(result.output, expected.output) <= 1e-5, `${backend} output differs from cpu`);
          for (const [k, g] of result.gradients.entries()) {
            const difference = maxAbsDifference(g, expected.gradients[k]!);
            assert.ok(difference <= 1e-5, `${backend} gradient for argument ${c.wrt[k]} differs from cpu by ${difference}`);
          }
        });
      }
    });
  }
});
