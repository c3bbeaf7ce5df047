import * as tf from '@tensorflow/tfjs';
import { sharedIdentity } from './shared-identity.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * Whether `perm` leaves every axis longer than 1 in its order: then the transpose moves no value
 * in memory, and its result is the input's buffer under the permuted shape.
 */
export function keepsMemoryOrder(shape: readonly number[], perm: readonly number[]): boolean {
  let last = -1;
  for (const axis of perm) {
    if (shape[axis] === 1) continue;
    if (axis < last) return false;
    last = axis;
  }
  return true;
}

/**
 * A `Transpose` that moves no value (the identity permutation, or one that moves only axes of
 * length 1) as the same buffer: a second reference, or the backend's own `Reshape`. tfjs's kernels
 * copy the whole tensor. tfjs-layers asks for such: its `dot` of a rank-3 input by a Dense kernel
 * transposes the kernel by [0, 1] (a copy of the kernel per call, and another in the gradient), and
 * attention heads of a batch of one are transposed past that batch. wasm's and cpu's `Reshape`
 * share the buffer; tfjs-node's is one TensorFlow op that copies nothing.
 */
export function orderPreservingTranspose(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | undefined {
  const x = args.inputs['x'];
  const perm = args.attrs?.['perm'] as number[] | undefined;
  if (!original || !x || !perm || perm.length !== x.shape.length || x.dtype === 'string') return undefined;
  if (!keepsMemoryOrder(x.shape, perm)) return undefined;
  if (perm.every((axis, i) => axis === i)) return sharedIdentity(args);
  // Kernels run on the engine's active backend, the one this call came from.
  const reshape = tf.getKernel('Reshape', tf.getBackend());
  if (!reshape) return undefined;
  return reshape.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { shape: perm.map((axis) => x.shape[axis]!) } }) as tf.TensorInfo;
}
