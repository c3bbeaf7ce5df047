import tf from '#tfjs';
import { asTensor } from './composed-kernel.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * Kernels whose shaders are wrong above rank 4 on a backend (tfjs-backend-webgpu 4.22: `PadV2` on
 * rank 5 compiles no shader, `cannot index type 'vec5'`, and leaves zeros; `Reverse` on rank 5
 * throws), rewritten as one call of that backend's own kernel per axis, each on the tensor viewed
 * as [outer, axis, inner]: rank 3, which they compute right. Each call moves the whole tensor once,
 * so this is only for the ranks that need it; lower ranks go to the kernel as they are.
 */

/** The shape as [product of the axes before `axis`, axis, product of the axes after it]. */
function aroundAxis(shape: readonly number[], axis: number): [number, number, number] {
  const product = (dims: readonly number[]) => dims.reduce((p, d) => p * d, 1);
  return [product(shape.slice(0, axis)), shape[axis]!, product(shape.slice(axis + 1))];
}

/** PadV2 above rank 4: each padded axis in turn, as a rank-3 pad. */
export function padAxisByAxis(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | tf.TensorInfo[] | undefined {
  if (!original) return undefined;
  if (args.inputs['x']!.shape.length <= 4) return undefined;
  const paddings = args.attrs!['paddings'] as Array<[number, number]>;
  const constantValue = args.attrs!['constantValue'] as number;
  return tf.tidy(() => {
    const x = asTensor(args.inputs['x']!);
    let current: tf.Tensor = x;
    paddings.forEach(([before, after], axis) => {
      if (before === 0 && after === 0) return;
      const shape = current.shape;
      const padded = asTensor(
        original({
          ...args,
          inputs: { x: tf.reshape(current, aroundAxis(shape, axis)) },
          attrs: { paddings: [[0, 0], [before, after], [0, 0]], constantValue },
        }) as tf.TensorInfo,
      );
      current = tf.reshape(padded, shape.map((d, i) => (i === axis ? d + before + after : d)));
    });
    // Nothing padded: a copy, as the kernel gives (the caller owns its result).
    return current === x ? tf.clone(x) : current;
  });
}

/** Reverse above rank 4: each reversed axis in turn, as a rank-3 reverse. */
export function reverseAxisByAxis(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | tf.TensorInfo[] | undefined {
  if (!original) return undefined;
  const shape = args.inputs['x']!.shape;
  if (shape.length <= 4) return undefined;
  const dims = args.attrs!['dims'] as number | number[];
  const axes = [...new Set((Array.isArray(dims) ? dims : [dims]).map((d) => (d < 0 ? d + shape.length : d)))];
  return tf.tidy(() => {
    const x = asTensor(args.inputs['x']!);
    let current: tf.Tensor = x;
    for (const axis of axes) {
      if (x.shape[axis] === 1) continue;
      const reversed = asTensor(original({ ...args, inputs: { x: tf.reshape(current, aroundAxis(x.shape, axis)) }, attrs: { dims: [1] } }) as tf.TensorInfo);
      current = tf.reshape(reversed, x.shape);
    }
    return current === x ? tf.clone(x) : current;
  });
}
