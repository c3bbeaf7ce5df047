import tf from '#tfjs';
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
 * A `Transpose` by the identity permutation as a second reference to the same buffer (tfjs's
 * kernels copy the whole tensor). tfjs-layers asks for one in every Dense call on a rank-3 input:
 * its `dot` transposes the kernel by [0, 1], a copy of the kernel per call and another in the
 * gradient. The shape is the input's, so whatever a backend keeps per tensor (tfjs-backend-wasm's
 * XNNPACK operator per weight tensor, with the weights packed for its shape) still holds.
 */
export function identityTranspose(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | undefined {
  const x = args.inputs['x'];
  const perm = args.attrs?.['perm'] as number[] | undefined;
  if (!original || !x || !perm || perm.length !== x.shape.length || x.dtype === 'string') return undefined;
  return perm.every((axis, i) => axis === i) ? sharedIdentity(args) : undefined;
}

/**
 * On tensorflow, also a `Transpose` that moves only axes of length 1, as TensorFlow's `Reshape`: an
 * op that copies nothing, where `Transpose` copies. Not on wasm, where a reshape shares its input's
 * buffer *and its id*: tfjs-backend-wasm keys the XNNPACK operator it keeps for a product's right
 * operand by that id, not by shape, so a weight [n, 1] and its transpose [1, n] as a view would
 * share one operator packed for the first shape (the product of the second then reads garbage).
 */
export function orderPreservingTranspose(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | undefined {
  const same = identityTranspose(args, original);
  if (same) return same;
  const x = args.inputs['x'];
  const perm = args.attrs?.['perm'] as number[] | undefined;
  if (!original || !x || !perm || perm.length !== x.shape.length || x.dtype === 'string') return undefined;
  if (!keepsMemoryOrder(x.shape, perm)) return undefined;
  // Kernels run on the engine's active backend, the one this call came from.
  const reshape = tf.getKernel('Reshape', tf.getBackend());
  if (!reshape) return undefined;
  return reshape.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { shape: perm.map((axis) => x.shape[axis]!) } }) as tf.TensorInfo;
}
