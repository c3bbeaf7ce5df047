import tf from '#tfjs';
import { pool3DGeometry, pool3DInfo, span, type PoolGeometry } from './avg-pool-grad.js';
import type { HostCompute } from './host-kernel.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/*
 * MaxPool3DGrad as TensorFlow computes it: each output's gradient goes to every element of its
 * window equal to the pooled maximum (TensorFlow's CPU kernel masks the window by equality, so tied
 * maxima each take the whole gradient, unlike its 2D kernel, which picks the first). Measured on
 * TensorFlow 2.21: a 2x2x2 window of zeros sends its gradient to all eight. tfjs 4.22's kernels
 * send it to one element, and find it wrongly where a window's height and width differ: its cpu
 * kernel numbers a window's elements with the window's height where its width belongs
 * (`wRow * effectiveFilterHeight + wCol` in maxPool3dPositions), so a [3, 2, 3] pooling's input
 * gradient was off by 2.6 on unit-scale values; its wasm kernel's maximum starts at the smallest
 * positive float (docs/wasm-kernels.md). NDHWC (tfjs's only layout), float32.
 */

/** dx (zeros on entry) += dy at every element of each window equal to its maximum y, windows in output order. */
function maxPool3DGradInto(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, g: PoolGeometry): void {
  const [inDepth, inHeight, inWidth] = g.in;
  const [outDepth, outHeight, outWidth] = g.out;
  const channels = g.channels;
  let o = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let od = 0; od < outDepth; od++) {
      const [d1, d2] = span(od, 0, g);
      for (let oh = 0; oh < outHeight; oh++) {
        const [h1, h2] = span(oh, 1, g);
        for (let ow = 0; ow < outWidth; ow++, o += channels) {
          const [w1, w2] = span(ow, 2, g);
          for (let d = d1; d < d2; d++) {
            for (let h = h1; h < h2; h++) {
              for (let w = w1; w < w2; w++) {
                const at = (((b * inDepth + d) * inHeight + h) * inWidth + w) * channels;
                for (let c = 0; c < channels; c++) if (x[at + c] === y[o + c]) dx[at + c] += dy[o + c]!;
              }
            }
          }
        }
      }
    }
  }
}

/** The kernel in JavaScript memory (the cpu backend's fix, and wasm's for what its heap kernel leaves). */
export const maxPool3DGrad: HostCompute = ({ dy, input, output }, attrs) => {
  const dx = new Float32Array(input!.values.length);
  maxPool3DGradInto(input!.values as Float32Array, output!.values as Float32Array, dy!.values as Float32Array, dx, pool3DGeometry(pool3DInfo(input!.shape, attrs)));
  return { values: dx, shape: [...input!.shape], dtype: 'float32' };
};

/** The same loop on wasm, over the tensors where they lie in its heap: no copy out and back. */
export function heapMaxPool3DGrad({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const dy = inputs['dy'];
  const x = inputs['input'];
  const y = inputs['output'];
  if (!dy || !x || !y || x.dtype !== 'float32' || y.dtype !== 'float32' || dy.dtype !== 'float32' || x.shape.length !== 5) return undefined;
  const info = pool3DInfo(x.shape, attrs ?? {});
  if (info.dataFormat !== 'channelsLast') return undefined;
  const wasm = backend as unknown as WasmHeapBackend;
  // Made before the views: making it may grow the heap, which detaches every view taken before.
  const out = wasm.makeOutput([...x.shape], 'float32');
  const dx = wasm.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  maxPool3DGradInto(wasm.typedArrayFromHeap(x) as Float32Array, wasm.typedArrayFromHeap(y) as Float32Array, wasm.typedArrayFromHeap(dy) as Float32Array, dx, pool3DGeometry(info));
  return out;
}
