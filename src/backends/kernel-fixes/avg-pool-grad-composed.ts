import tf from '#tfjs';
import { averagePoolGradient, avgPool2DGeometry, span } from './avg-pool-grad.js';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/**
 * Elements of the input gradient from which the composition runs; below, the exact loop
 * (avg-pool-grad.ts) is faster than the composition's few kernels ([2, 8, 8, 32], 3x3 stride 2:
 * 0.07 against 0.12 ms on the host; [1, 16, 16, 64], 3x3 stride 1: 0.43 against 0.23), and since
 * the twenty-seventh session it reads dy and writes dx where they lie in wasm's heap instead of
 * copying them out and back (the zoo's pooling models sent every AvgPoolGrad to the host).
 * Tests lower it to reach the composition in the small cases.
 */
export const avgPoolGradFrom = { elements: 1 << 14 };

/**
 * AvgPoolGrad (NHWC float32) on the backend's own kernels, where avg-pool-grad.ts computes it on
 * the host: each output's gradient shared equally among the input elements its window covers
 * inside the input (TensorFlow's definition; tfjs 4.22's kernels divide by the whole window). dy
 * is scaled per output position by 1 / that count (the same for every channel and image: a
 * scalar where no window reaches past the input), and then spread back over each window as the
 * input gradient of a depthwise convolution whose filter is all ones (on wasm, keras-bridge's
 * composition over XNNPACK's depthwise convolution: conv-backprop-composed.ts). The sums are
 * float32 in the convolution's order, where the host's are float64 rounded once: they differ by
 * float32 rounding (test/backends/kernel-fixes.test.ts compares within 1e-5 of cpu's). Measured
 * on wasm, the output read back included, medians of 7: [8, 17, 17, 768] 3x3 stride 1 'same'
 * (InceptionV3's pools) 54.5 → 6.1 ms, [32, 56, 56, 128] 2x2 stride 2 (DenseNet121's first
 * transition at batch 32) 231 → 39 ms.
 */
export const avgPoolGradComposed: ComposedCompute = (inputs, attrs, r) => {
  const { dy, input } = inputs;
  if (!dy || !input || dy.dtype !== 'float32' || input.shape.length !== 4 || dy.shape.length !== 4) return undefined;
  if (tf.util.sizeFromShape(input.shape) < avgPoolGradFrom.elements) return inHeap(r, dy, input.shape, attrs);
  const { info, geometry } = avgPool2DGeometry(input.shape, attrs);
  const { batchSize, outHeight, outWidth, inChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  if (info.dataFormat !== 'channelsLast' || dy.shape[1] !== outHeight || dy.shape[2] !== outWidth || dy.shape[3] !== inChannels) return undefined;
  // 1 / the number of input elements each output's window covers inside the input.
  const length = ([start, end]: [number, number]) => end - start;
  const reciprocals = new Float32Array(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    const rows = length(span(y, 1, geometry));
    for (let x = 0; x < outWidth; x++) reciprocals[y * outWidth + x] = 1 / (rows * length(span(x, 2, geometry)));
  }
  const whole = reciprocals.every((v) => v === reciprocals[0]);
  // One value per pixel of every image ([b, oh, ow, 1]: one per row of channels, a broadcast wasm's SIMD rows take), or one scalar.
  const scale = whole
    ? r.constant(reciprocals.subarray(0, 1), [], 'float32')
    : r.constant(tiled(reciprocals, batchSize), [batchSize, outHeight, outWidth, 1], 'float32');
  const shared = r.run('Multiply', { a: dy, b: scale });
  const ones = r.constant(new Float32Array(filterHeight * filterWidth * inChannels).fill(1), [filterHeight, filterWidth, inChannels, 1], 'float32');
  const pad = padInfo.type === 'VALID' ? 'valid' : padInfo.type === 'SAME' ? 'same' : ([[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]] as tf.backend_util.ExplicitPadding);
  return r.run('DepthwiseConv2dNativeBackpropInput', { dy: shared, filter: ones }, {
    strides: [strideHeight, strideWidth],
    pad,
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: attrs['dimRoundingMode'],
    inputShape: [...input.shape],
  });
};

function tiled(values: Float32Array, times: number): Float32Array {
  const out = new Float32Array(values.length * times);
  for (let t = 0; t < times; t++) out.set(values, t * values.length);
  return out;
}

/** The exact loop over dy where it lies in wasm's heap, dx written into the heap; undefined on a backend without one. */
function inHeap(r: KernelRunner, dy: tf.TensorInfo, inputShape: number[], attrs: tf.NamedAttrMap): tf.TensorInfo | undefined {
  const wasm = r.backend as unknown as Partial<WasmHeapBackend>;
  if (!wasm.makeOutput || !wasm.typedArrayFromHeap) return undefined;
  const { geometry } = avgPool2DGeometry(inputShape, attrs);
  // Made before the views: making it may grow the heap, which detaches every view taken before.
  const out = wasm.makeOutput([...inputShape], 'float32');
  const dx = averagePoolGradient(wasm.typedArrayFromHeap(dy) as Float32Array, geometry);
  (wasm.typedArrayFromHeap(out) as Float32Array).set(dx);
  return out;
}
