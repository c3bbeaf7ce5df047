import type * as tf from '@tensorflow/tfjs';
import { sharedIdentity } from './shared-identity.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * A `Reshape` to the shape the tensor already has, as a second reference to the same buffer (a
 * `Cast` to its own dtype likewise: sameDtypeCast, shared-identity.ts). tfjs-node runs each as a
 * TensorFlow op (a Reshape also makes its shape tensor first, a second call into the binding),
 * 15-20 µs a call; tfjs-core and its gradients ask for many such (ResNet50 at batch 1: 53 of a forward pass's 308 kernels and
 * 264 of a backward pass's 1,544; the Transformer block: 64 of 417). tfjs tensors are never
 * written in place, so both references hold the same values. Other cases go to TensorFlow.
 */
export function sameShapeReshape(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | undefined {
  const x = args.inputs['x'];
  const shape = args.attrs?.['shape'] as number[] | undefined;
  if (!original || !x || !shape || shape.length !== x.shape.length || !shape.every((d, i) => d === x.shape[i])) return undefined;
  return sharedIdentity(args);
}
