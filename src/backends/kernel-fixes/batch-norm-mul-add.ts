import type * as tf from '@tensorflow/tfjs';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';

/**
 * A batch normalization with given statistics (FusedBatchNorm: BatchNormalization at inference,
 * and in every forward pass a gradient tape records) as TensorFlow's tf.nn.batch_normalization
 * writes it: y = x·inv + (offset - mean·inv), inv = rsqrt(variance + ε)·scale, the two per-channel
 * vectors computed once on C elements, then one broadcast Multiply and one Add over x.
 * tfjs-backend-wasm's own kernel indexes every statistic per element: on MobileNetV2's shapes it
 * took 3 to 6 times as long as the two broadcast kernels ([1,56,56,144]: 1.6 against 0.24 ms).
 * Channels-last statistics only (each of size C, x's last axis); other cases go to tfjs's kernel.
 * The Multiply and the Add are one pass of keras-bridge's wasm SIMD kernel where it runs
 * (channelAffineBySimd).
 */
export const batchNormAsMulAdd: ComposedCompute = (inputs, attrs, r) => {
  const { x, mean, variance, offset, scale } = inputs;
  if (!x || !mean || !variance || x.shape.length === 0) return undefined;
  const channels = x.shape[x.shape.length - 1]!;
  const perChannel = (t: tf.TensorInfo | undefined) =>
    t === undefined || (t.dtype === 'float32' && t.shape.length >= 1 && t.shape[t.shape.length - 1] === channels && t.shape.slice(0, -1).every((d) => d === 1));
  if (x.dtype !== 'float32' || ![mean, variance, offset, scale].every(perChannel)) return undefined;
  const flat = (t: tf.TensorInfo) => (t.shape.length === 1 ? t : r.reshape(t, [channels]));
  const epsilon = r.constant(new Float32Array([attrs['varianceEpsilon'] as number]), [], 'float32');
  let inv = r.run('Rsqrt', { x: r.run('Add', { a: flat(variance), b: epsilon }) });
  if (scale) inv = r.run('Multiply', { a: inv, b: flat(scale) });
  const meanTimesInv = r.run('Multiply', { a: flat(mean), b: inv });
  const shift = offset ? r.run('Sub', { a: flat(offset), b: meanTimesInv }) : r.run('Neg', { x: meanTimesInv });
  return channelAffineBySimd(r, x, inv, shift) ?? r.run('Add', { a: r.run('Multiply', { a: x, b: inv }), b: shift });
};

/** The parts of tfjs-backend-wasm's backend the SIMD kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/**
 * x · factor + shift in one pass of keras-bridge's wasm SIMD kernel (wasm-simd/batch-norm.ts),
 * where the channels are a multiple of 4: the same two roundings as the Multiply and the Add, one
 * pass over x instead of two and no intermediate tensor.
 */
function channelAffineBySimd(r: KernelRunner, x: tf.TensorInfo, factor: tf.TensorInfo, shift: tf.TensorInfo): tf.TensorInfo | undefined {
  const channels = x.shape[x.shape.length - 1]!;
  if (channels % 4 !== 0 || channels === 0) return undefined;
  const kernels = wasmHeapKernels(r.backend);
  if (!kernels) return undefined;
  const wasm = r.backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput([...x.shape], 'float32');
  const pixels = x.shape.reduce((a, b) => a * b, 1) / channels;
  if (pixels === 0) return out;
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  kernels.channelAffine(at(x), at(factor), at(shift), at(out), pixels, 4 * channels);
  return out;
}
