import tf from '#tfjs';
import { sharedIdentity } from './shared-identity.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/**
 * Slice reading the input where it lies in wasm's heap. tfjs-backend-wasm 4.22's kernel first copies
 * the whole input out of the heap into a new JavaScript buffer (`readSync`), whatever the slice's
 * size: a [1, 64, 128] slice of a [128, 64, 128] tensor took 3.7 ms, 128 of them (an unstack) 500 ms.
 * keras-bridge's own compositions slice too (a 3x3 kernel turned for its input gradient: nine
 * slices of the whole kernel). Here the output is made first (making it may grow the heap, which
 * moves every view), then copied from a view of the input in runs as long as the slice allows.
 * Strings live outside the heap: undefined, and tfjs's kernel runs.
 */
export function heapSlice({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const x = inputs['x'];
  if (!x || x.dtype === 'string' || x.dtype === 'complex64') return undefined;
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs!['begin'] as number[], attrs!['size'] as number[]);
  // The whole tensor (tfjs-layers' predict slices its one batch out of the input, a copy of it per
  // call: 0.36 ms of the Transformer block's forward pass at batch 32): a second reference, shape and all.
  if (x.shape.every((d, axis) => begin[axis] === 0 && size[axis] === d)) return sharedIdentity({ inputs, attrs, backend });
  const wasm = backend as unknown as WasmHeapBackend;
  const out = wasm.makeOutput(size, x.dtype);
  const count = size.reduce((a, b) => a * b, 1);
  if (count === 0) return out;
  const from = wasm.typedArrayFromHeap(x);
  const to = wasm.typedArrayFromHeap(out);
  const shape = x.shape;
  const rank = shape.length;
  if (rank === 0) {
    to.set(from.subarray(0, 1));
    return out;
  }
  const strides = tf.util.computeStrides(shape);
  const stride = (axis: number) => (axis === rank - 1 ? 1 : strides[axis]!);
  // Trailing axes taken whole make one contiguous run with the axis before them.
  let runAxis = rank - 1;
  while (runAxis > 0 && begin[runAxis] === 0 && size[runAxis] === shape[runAxis]) runAxis--;
  const run = size[runAxis]! * stride(runAxis);
  const base = begin.reduce((offset, b, axis) => offset + b * stride(axis), 0);
  // An odometer over the axes before runAxis.
  const index = new Array<number>(runAxis).fill(0);
  for (let written = 0; written < count; written += run) {
    let offset = base;
    for (let axis = 0; axis < runAxis; axis++) offset += index[axis]! * stride(axis);
    to.set(from.subarray(offset, offset + run), written);
    for (let axis = runAxis - 1; axis >= 0; axis--) {
      if (++index[axis]! < size[axis]!) break;
      index[axis] = 0;
    }
  }
  return out;
}
