import type * as tf from '@tensorflow/tfjs';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';
import { elementwiseParts } from './heap-elementwise.js';
import { evenRuns } from '../wasm-simd/product-tiles.js';

/**
 * A batch normalization with given statistics (FusedBatchNorm: BatchNormalization at inference,
 * and in every forward pass a gradient tape records) as TensorFlow's tf.nn.batch_normalization
 * writes it: y = x·inv + (offset - mean·inv), inv = rsqrt(variance + ε)·scale, the two per-channel
 * vectors computed once on C elements, then one broadcast Multiply and one Add over x.
 * tfjs-backend-wasm's own kernel indexes every statistic per element: on MobileNetV2's shapes it
 * took 3 to 6 times as long as the two broadcast kernels ([1,56,56,144]: 1.6 against 0.24 ms).
 * Channels-last statistics only (each of size C, x's last axis); other cases go to tfjs's kernel.
 * Where keras-bridge's wasm SIMD kernel runs, all of it is one pass instead (batchNormBySimd).
 */
export const batchNormAsMulAdd: ComposedCompute = (inputs, attrs, r) => {
  const { x, mean, variance, offset, scale } = inputs;
  if (!x || !mean || !variance || x.shape.length === 0) return undefined;
  const channels = x.shape[x.shape.length - 1]!;
  const perChannel = (t: tf.TensorInfo | undefined) =>
    t === undefined || (t.dtype === 'float32' && t.shape.length >= 1 && t.shape[t.shape.length - 1] === channels && t.shape.slice(0, -1).every((d) => d === 1));
  if (x.dtype !== 'float32' || ![mean, variance, offset, scale].every(perChannel)) return undefined;
  const bySimd = batchNormBySimd(r, x, { mean, variance, offset, scale }, attrs['varianceEpsilon'] as number);
  if (bySimd) return bySimd;
  const flat = (t: tf.TensorInfo) => (t.shape.length === 1 ? t : r.reshape(t, [channels]));
  const epsilon = r.constant(new Float32Array([attrs['varianceEpsilon'] as number]), [], 'float32');
  let inv = r.run('Rsqrt', { x: r.run('Add', { a: flat(variance), b: epsilon }) });
  if (scale) inv = r.run('Multiply', { a: inv, b: flat(scale) });
  const meanTimesInv = r.run('Multiply', { a: flat(mean), b: inv });
  const shift = offset ? r.run('Sub', { a: flat(offset), b: meanTimesInv }) : r.run('Neg', { x: meanTimesInv });
  return r.run('Add', { a: r.run('Multiply', { a: x, b: inv }), b: shift });
};

/**
 * The whole normalization in keras-bridge's wasm SIMD kernel (wasm-simd/batch-norm.ts,
 * channelAffine), where the channels are a multiple of 4: factor = scale / sqrt(variance + ε) and
 * shift = offset - mean · factor per channel in float64 here, each rounded once, then
 * x · factor + shift in one pass (rounded after the product and after the sum, as a Multiply and
 * an Add are). Five kernels on C values and two passes over x before: on MobileNetV2 at batch 1,
 * the small kernels' dispatch was most of the 52 normalizations' time.
 */
function batchNormBySimd(
  r: KernelRunner,
  x: tf.TensorInfo,
  statistics: { mean: tf.TensorInfo; variance: tf.TensorInfo; offset?: tf.TensorInfo; scale?: tf.TensorInfo },
  epsilon: number,
): tf.TensorInfo | undefined {
  const channels = x.shape[x.shape.length - 1]!;
  if (channels % 4 !== 0 || channels === 0) return undefined;
  const kernels = wasmHeapKernels(r.backend);
  if (!kernels) return undefined;
  const wasm = r.backend as unknown as WasmHeapBackend;
  // Made before any view is taken: making a tensor may grow the heap.
  const out = wasm.makeOutput([...x.shape], 'float32');
  const factors = wasm.makeOutput([2 * channels], 'float32');
  const perChannel = wasm.typedArrayFromHeap(factors);
  const [mean, variance] = [wasm.typedArrayFromHeap(statistics.mean), wasm.typedArrayFromHeap(statistics.variance)];
  const offset = statistics.offset ? wasm.typedArrayFromHeap(statistics.offset) : undefined;
  const scale = statistics.scale ? wasm.typedArrayFromHeap(statistics.scale) : undefined;
  for (let c = 0; c < channels; c++) {
    const factor = (scale ? scale[c]! : 1) / Math.sqrt(variance[c]! + epsilon);
    perChannel[c] = factor;
    perChannel[channels + c] = (offset ? offset[c]! : 0) - mean[c]! * factor;
  }
  const pixels = x.shape.reduce((a, b) => a * b, 1) / channels;
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  if (pixels > 0) {
    // Cut by pixels among the kernel threads for a large x (ResNet50 at batch 1: 53 normalizations of 50-800 K values).
    const threads = kernels.threads();
    const [xAt, outAt, rowBytes] = [at(x), at(out), 4 * channels];
    const factorAt = at(factors);
    threads.run(
      evenRuns(pixels, Math.min(pixels, elementwiseParts(threads.count, pixels * channels))).map(([first, end]) => [
        { fn: kernels.channelAffineIndex, args: [xAt + first * rowBytes, factorAt, factorAt + rowBytes, outAt + first * rowBytes, end - first, rowBytes] },
      ]),
    );
  }
  r.backend.disposeData(factors.dataId);
  return out;
}
