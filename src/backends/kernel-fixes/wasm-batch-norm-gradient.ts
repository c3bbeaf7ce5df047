import tf from '#tfjs';
import { batchNormGradientOnHeap, batchNormGradientScratch } from '../wasm-simd/batch-norm.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/**
 * FUSED_BATCH_NORM_GRAD (batch-norm-gradient.ts) on wasm: dx, dscale and doffset of a batch
 * normalization with given statistics in one pass over dy and x, in keras-bridge's wasm SIMD kernel
 * on the heap (wasm-simd/batch-norm.ts; blocks of pixels cut among the kernel threads), where tfjs-core's formulas take six passes of wasm's
 * kernels (a Sub, three Multiplies and two Sums). Per-channel factors in float64, rounded once.
 * Channels not a multiple of 4 (rare: a BatchNormalization over 3 or 6 features) or no SIMD
 * kernel: the same in plain loops here, sums in float64.
 */
export function wasmFusedBatchNormGrad({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { dy, x, scale, mean, variance } = inputs as Record<string, tf.TensorInfo>;
  const channels = x!.shape[x!.shape.length - 1]!;
  const pixels = channels === 0 ? 0 : tf.util.sizeFromShape(x!.shape) / channels;
  const wasm = backend as unknown as WasmHeapBackend;
  const kernels = channels % 4 === 0 ? wasmHeapKernels(backend as tf.KernelBackend) : undefined;
  // Made before any offset is read: making a tensor may grow the heap.
  const dx = wasm.makeOutput([...x!.shape], 'float32');
  const dscale = wasm.makeOutput([channels], 'float32');
  const doffset = wasm.makeOutput([channels], 'float32');
  const factors = wasm.makeOutput([2 * channels], 'float32');
  const scratch = wasm.makeOutput([kernels ? batchNormGradientScratch(pixels, channels) : 2 * channels], 'float32');
  const view = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t);
  const epsilon = attrs?.['epsilon'] as number;
  const [factor, r] = [view(factors).subarray(0, channels), view(factors).subarray(channels)];
  const [scales, variances] = [view(scale!), view(variance!)];
  for (let c = 0; c < channels; c++) {
    const inverse = 1 / Math.sqrt(variances[c]! + epsilon);
    r[c] = inverse;
    factor[c] = inverse * scales[c]!;
  }
  if (kernels && pixels > 0) {
    const at = (t: tf.TensorInfo) => view(t).byteOffset / 4;
    batchNormGradientOnHeap(kernels.threads(), kernels.batchNormGradientIndex, kernels.float32Heap(), { dy: at(dy!), x: at(x!), dx: at(dx), mean: at(mean!), factor: at(factors), r: at(factors) + channels, scratch: at(scratch), dscale: at(dscale), doffset: at(doffset) }, pixels, channels);
  } else {
    // Element by element, sums in float64.
    const [g, v, out, m] = [view(dy!), view(x!), view(dx), view(mean!)];
    const centered = new Float64Array(channels);
    const sums = new Float64Array(channels);
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < channels; c++) {
        const k = p * channels + c;
        out[k] = g[k]! * factor[c]!;
        centered[c] += g[k]! * (v[k]! - m[c]!);
        sums[c] += g[k]!;
      }
    }
    const [ds, doff] = [view(dscale), view(doffset)];
    for (let c = 0; c < channels; c++) {
      ds[c] = centered[c]! * r[c]!;
      doff[c] = sums[c]!;
    }
  }
  wasm.disposeData(factors.dataId);
  wasm.disposeData(scratch.dataId);
  return [dx, dscale, doffset];
}
