import tf from '#tfjs';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/**
 * Tile (and so `tf.broadcastTo`, which tfjs-core runs as a Tile, and `tf.where`, which broadcasts
 * its operands with it) by copies within wasm's heap. tfjs-backend-wasm 4.22's kernel computes
 * each output element's source index, about 100 ns an element here: [1, 4, 128, 1] tiled to
 * [1, 4, 128, 128], an attention mask's broadcast, took 6.5 ms. Here each input block is copied
 * once, then doubled in place (`copyWithin`) until it fills its repetitions, from the innermost
 * tiled axis outwards; trailing axes that are not tiled are copied with the block they belong to.
 * The output is made first (making it may grow the heap, which moves every view). Strings live
 * outside the heap: undefined, and tfjs's kernel runs.
 */
export function heapTile({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const x = inputs['x'];
  const reps = attrs?.['reps'] as number[] | undefined;
  if (!x || !reps || reps.length !== x.shape.length || x.dtype === 'string' || x.dtype === 'complex64') return undefined;
  const shape = x.shape;
  const outShape = shape.map((d, i) => d * reps[i]!);
  const wasm = backend as unknown as WasmHeapBackend;
  const out = wasm.makeOutput(outShape, x.dtype);
  if (outShape.some((d) => d === 0)) return out;
  const from = wasm.typedArrayFromHeap(x);
  const to = wasm.typedArrayFromHeap(out);
  const rank = shape.length;
  if (rank === 0) {
    to.set(from.subarray(0, 1));
    return out;
  }
  // The innermost tiled axis: the axes after it are copied whole with each of its blocks.
  let last = rank - 1;
  while (last > 0 && reps[last] === 1) last--;
  const inner = shape.slice(last + 1).reduce((a, b) => a * b, 1);
  const sourceStride = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const targetStride = outShape.map((_, axis) => outShape.slice(axis + 1).reduce((a, b) => a * b, 1));

  /** Writes the output block of `axis` at `target` from the input block at `source`; returns its length. */
  const write = (axis: number, source: number, target: number): number => {
    let block: number;
    if (axis === last) {
      block = shape[axis]! * inner;
      if (block === 1) {
        to.fill(from[source]!, target, target + reps[axis]!);
        return reps[axis]!;
      }
      to.set(from.subarray(source, source + block), target);
    } else {
      for (let i = 0; i < shape[axis]!; i++) write(axis + 1, source + i * sourceStride[axis]!, target + i * targetStride[axis]!);
      block = shape[axis]! * targetStride[axis]!;
    }
    return repeat(block, reps[axis]!, target);
  };
  /** The block of `length` at `target`, repeated `times` in all, by doubling. */
  const repeat = (length: number, times: number, target: number): number => {
    const total = length * times;
    for (let filled = length; filled < total; filled *= 2) to.copyWithin(target + filled, target, target + Math.min(filled, total - filled));
    return total;
  };
  write(0, 0, 0);
  return out;
}
