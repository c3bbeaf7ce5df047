import tf from '#tfjs';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/** How many rows of windows ran in wasm SIMD (tests check the path a case took). */
export const simdMaxPoolGradientRows = { count: 0 };

/**
 * MaxPoolGrad on wasm, reading dy, the input and the pooled output where they lie in wasm's heap
 * and writing the input gradient there: each output's gradient goes to the first element of its
 * window, in row-major order, that equals the window's maximum (the forward output), as
 * TensorFlow's and tfjs's cpu kernels do. tfjs-backend-wasm's own kernel is wrong on all-negative
 * windows (docs/wasm-kernels.md); the composition from its kernels this replaces took 107 ms for
 * ResNet50's one max pooling at batch 1 (nine strided slices, masks and a full-grid add per window
 * offset), this loop a few; its windows wholly inside the input now run in wasm SIMD (11.1 -> 0.85 ms).
 * NHWC float32; other cases return undefined and take the host kernel.
 */
export function heapMaxPoolGrad({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const dy = inputs['dy'];
  const x = inputs['input'];
  const y = inputs['output'];
  if (!dy || !x || !y || x.dtype !== 'float32' || x.shape.length !== 4) return undefined;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs!['filterSize'] as number | [number, number],
    attrs!['strides'] as number | [number, number],
    1,
    attrs!['pad'] as 'valid' | 'same' | number,
    attrs!['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const wasm = backend as unknown as WasmHeapBackend;
  // Made before the views: making it may grow the heap, which detaches every view taken before.
  const out = wasm.makeOutput([...x.shape], 'float32');
  const dx = wasm.typedArrayFromHeap(out) as Float32Array;
  const input = wasm.typedArrayFromHeap(x) as Float32Array;
  const pooled = wasm.typedArrayFromHeap(y) as Float32Array;
  const gradient = wasm.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  // Per window: which channels have found their maximum already (the first match takes it).
  const claimed = new Uint8Array(channels);
  const windowHere = (b: number, oy: number, ox: number) => {
    const at = ((b * outHeight + oy) * outWidth + ox) * channels;
    claimed.fill(0);
    let unclaimed = channels;
    for (let i = 0; i < filterHeight && unclaimed > 0; i++) {
      const row = oy * strideHeight - top + i;
      if (row < 0 || row >= height) continue;
      for (let j = 0; j < filterWidth && unclaimed > 0; j++) {
        const column = ox * strideWidth - left + j;
        if (column < 0 || column >= width) continue;
        const from = ((b * height + row) * width + column) * channels;
        for (let c = 0; c < channels; c++) {
          if (claimed[c] === 0 && input[from + c] === pooled[at + c]) {
            claimed[c] = 1;
            unclaimed--;
            dx[from + c]! += gradient[at + c]!;
          }
        }
      }
    }
  };
  // Windows wholly inside the input, row by row, in wasm SIMD where the channels are whole vectors
  // (wasm-simd/max-pool-gradient.ts); the border's windows here, each in its place in the order.
  const kernels = channels % 4 === 0 ? wasmHeapKernels(backend as tf.KernelBackend) : undefined;
  const firstInside = Math.min(outWidth, Math.max(0, Math.ceil(left / strideWidth)));
  const endInside = Math.max(firstInside, Math.min(outWidth, Math.floor((width + left - filterWidth) / strideWidth) + 1));
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const top0 = oy * strideHeight - top;
      const rowInside = top0 >= 0 && top0 + filterHeight <= height;
      if (!kernels || !rowInside || endInside === firstInside) {
        for (let ox = 0; ox < outWidth; ox++) windowHere(b, oy, ox);
        continue;
      }
      for (let ox = 0; ox < firstInside; ox++) windowHere(b, oy, ox);
      const corner = 4 * ((b * height + top0) * width + firstInside * strideWidth - left) * channels;
      const output = 4 * ((b * outHeight + oy) * outWidth + firstInside) * channels;
      kernels.maxPoolGradientRow(input.byteOffset + corner, pooled.byteOffset + output, gradient.byteOffset + output, dx.byteOffset + corner, endInside - firstInside, 4 * strideWidth * channels, 4 * width * channels, 4 * channels, filterHeight, filterWidth, channels / 4);
      simdMaxPoolGradientRows.count++;
      for (let ox = endInside; ox < outWidth; ox++) windowHere(b, oy, ox);
    }
  }
  return out;
}
