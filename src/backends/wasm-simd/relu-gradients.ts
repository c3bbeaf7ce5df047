import type { KernelThreads } from './kernel-threads.js';
import { evenRuns } from './product-tiles.js';
import { Code, I32, type WasmFunction } from './wasm-binary.js';

/**
 * `reluGradient(dy, x, out, vectors)` and `relu6Gradient(...)`: out = dy · (0 < x ? 1 : 0), and
 * dy · (0 < x < 6 ? 1 : 0), as TensorFlow's ReluGrad and Relu6Grad compute them for Keras (0 at
 * x = 0, at the cap and at NaN; -0 where dy is negative), 4 float32 a vector, `vectors` of them:
 * one pass over the three tensors, where tfjs-core's compositions take three to five kernels.
 */
export function reluGradientFunction(cap: 6 | undefined): WasmFunction {
  const [dy, x, out, vectors] = [0, 1, 2, 3];
  const body = new Code().block((exit) =>
    exit
      .get(vectors)
      .i32Eqz()
      .brIf(0)
      .loop((next) => {
        next.get(out).f32x4Const(0).get(x).v128Load().f32x4Lt();
        if (cap !== undefined) next.get(x).v128Load().f32x4Const(cap).f32x4Lt().v128And();
        next
          .f32x4Const(1).v128And()
          .get(dy).v128Load()
          .f32x4Mul()
          .v128Store()
          .get(dy).i32(16).i32Add().set(dy)
          .get(x).i32(16).i32Add().set(x)
          .get(out).i32(16).i32Add().set(out)
          .get(vectors).i32(1).i32Sub().tee(vectors)
          .brIf(0);
      }),
  );
  return { name: cap === undefined ? 'reluGradient' : 'relu6Gradient', params: [I32, I32, I32, I32], locals: [], body };
}

export type ReluGradient = (dy: number, x: number, out: number, vectors: number) => void;

/** Float32 elements from which the gradient is cut among the kernel threads (below, waking a helper costs more than it saves). */
const PARALLEL_FROM_ELEMENTS = 1 << 16;

/**
 * The gradient over `size` float32 elements at heap offsets dy, x and out: vectors in wasm SIMD
 * (kernel `index` of the module, reluGradientFunction), cut among `threads` for large tensors
 * (each element computed alone: the same values whatever the cut; ResNet50's forward+backward
 * pass at batch 32 spent 228 ms of 8.4 s in them on one thread), the last size % 4 here.
 */
export function reluGradientOnHeap(threads: KernelThreads, index: number, cap: 6 | undefined, heap: Float32Array, dy: number, x: number, out: number, size: number): void {
  const whole = size - (size % 4);
  const vectors = whole / 4;
  if (vectors > 0) {
    const parts = size < PARALLEL_FROM_ELEMENTS || threads.count === 1 ? 1 : 4 * threads.count;
    threads.run(evenRuns(vectors, parts).map(([first, end]) => [{ fn: index, args: [4 * dy + 16 * first, 4 * x + 16 * first, 4 * out + 16 * first, end - first] }]));
  }
  for (let i = whole; i < size; i++) {
    const v = heap[x + i]!;
    heap[out + i] = heap[dy + i]! * (v > 0 && (cap === undefined || v < cap) ? 1 : 0);
  }
}
