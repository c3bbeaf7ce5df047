import * as tf from '@tensorflow/tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import { derivedTensor } from './derived-tensors.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';
import { batchedProduct, evenRuns, packedBytes, packRightOperand } from '../wasm-simd/product-tiles.js';
import { wasmHeapKernels, type WasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { WINOGRAD_POSITIONS } from '../wasm-simd/winograd.js';
import type { KernelCall } from '../wasm-simd/kernel-threads.js';

/** How many convolutions ran as Winograd F(2x2, 3x3) (tests check the path a case took). */
export const winogradConvolutions = { count: 0 };

/**
 * Multiply-adds (of the direct convolution) from which a 3x3 convolution runs as Winograd's
 * F(2x2, 3x3); below, tfjs-backend-wasm's XNNPACK convolution. Tests lower it to reach the edges.
 */
export const winogradFrom = {
  macs: 1 << 22,
  /** Scratch bytes one pass of the transformed input and products may take; a larger convolution runs in passes of whole tile rows. */
  passBytes: 32 << 20,
};

/** Activations clamped inside the output transform, as [low, high]; others run after it as the backend's kernels. */
const CLAMPS: Readonly<Record<string, [number, number]>> = {
  linear: [-Infinity, Infinity],
  relu: [0, Infinity],
  relu6: [0, 6],
};
const AFTER: Readonly<Record<string, (x: tf.TensorInfo, r: KernelRunner, attrs: tf.NamedAttrMap, alpha: tf.TensorInfo | undefined) => tf.TensorInfo | undefined>> = {
  elu: (x, r) => r.run('Elu', { x }),
  sigmoid: (x, r) => r.run('Sigmoid', { x }),
  leakyrelu: (x, r, attrs) => r.run('LeakyRelu', { x }, { alpha: attrs['leakyreluAlpha'] ?? 0.2 }),
  prelu: (x, r, _attrs, alpha) => (alpha ? r.run('Prelu', { x, alpha }) : undefined),
};

const floatBits = (value: number): number => new Int32Array(new Float32Array([value]).buffer)[0]!;

/**
 * tfjs-backend-wasm's Conv2D and FusedConv2D, for a 3x3 filter of stride 1 and dilation 1 on
 * NHWC float32 with channels in whole vectors of 4, as Winograd's F(2x2, 3x3) (wasm-simd/
 * winograd.ts): 16 products per 2x2 block of outputs and input channel where XNNPACK's direct
 * convolution takes 36, in keras-bridge's SIMD tiles on the kernel threads. The filter's transform
 * G g Gᵀ, packed into the tiles' panels, is kept while the filter's data lives (derived-tensors.ts).
 * Per pass of whole tile rows: the input (zero-padded to whole tiles) transformed into 16 matrices
 * [tiles, in], 16 products with the filter's [in, out], and the output transform with the bias and
 * a clamping activation (linear, relu, relu6; others run after it). Its sums differ from the direct
 * convolution's by float32 rounding of the transforms (docs/wasm-kernels.md has the measured error).
 * Anything else, or a small convolution: undefined, and XNNPACK runs it.
 */
export const winogradConv2D: ComposedCompute = (inputs, attrs, r) => {
  const { x, filter, bias, preluActivationWeights } = inputs;
  if (!x || !filter || x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const [kh, kw, inChannels, outChannels] = filter.shape as [number, number, number, number];
  if (kh !== 3 || kw !== 3 || inChannels % 4 !== 0 || outChannels % 4 !== 0 || x.shape[3] !== inChannels) return undefined;
  const format = attrs['dataFormat'] ?? 'NHWC';
  if (format !== 'NHWC' && format !== 'channelsLast') return undefined;
  const activationName = String(attrs['activation'] ?? 'linear');
  const clamp = CLAMPS[activationName] ?? (AFTER[activationName] ? CLAMPS['linear']! : undefined);
  if (!clamp || (activationName === 'prelu' && !preluActivationWeights)) return undefined;
  if (bias && (bias.dtype !== 'float32' || bias.shape.reduce((p, d) => p * d, 1) !== outChannels)) return undefined;
  let info: tf.backend_util.Conv2DInfo;
  try {
    info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs['strides'] as number | [number, number],
      (attrs['dilations'] ?? 1) as number | [number, number],
      attrs['pad'] as 'same' | 'valid' | number,
      attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
      false,
      'channelsLast',
    );
  } catch {
    return undefined;
  }
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const { batchSize, outHeight, outWidth, inHeight, inWidth } = info;
  if (outHeight < 1 || outWidth < 1 || batchSize * outHeight * outWidth * inChannels * outChannels * 9 < winogradFrom.macs) return undefined;
  const kernels = wasmHeapKernels(r.backend);
  if (!kernels) return undefined;

  const wasm = r.backend as unknown as WasmHeapBackend;
  const transformed = transformedFilter(r, kernels, filter);
  const [tileRowsPerImage, tilesPerRow] = [Math.ceil(outHeight / 2), Math.ceil(outWidth / 2)];
  const [paddedHeight, paddedWidth] = [2 * tileRowsPerImage + 2, 2 * tilesPerRow + 2];
  const { top, left } = info.padInfo;
  const padded = r.padOrCut(x, [top, paddedHeight - inHeight - top], [left, paddedWidth - inWidth - left]);
  const tileRows = batchSize * tileRowsPerImage;
  const rowBytes = WINOGRAD_POSITIONS * tilesPerRow * (inChannels + outChannels) * 4;
  const rowsPerPass = Math.max(1, Math.min(tileRows, Math.floor(winogradFrom.passBytes / rowBytes)));
  // Made before any offset is read: making one may grow the heap.
  const out = r.track(wasm.makeOutput([batchSize, outHeight, outWidth, outChannels], 'float32'));
  const matrices = r.track(wasm.makeOutput([WINOGRAD_POSITIONS * rowsPerPass * tilesPerRow * (inChannels + outChannels)], 'float32'));
  const zeros = bias ? undefined : r.track(wasm.makeOutput([outChannels], 'float32'));
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  if (zeros) kernels.float32Heap().fill(0, at(zeros) / 4, at(zeros) / 4 + outChannels);
  const [xAt, outAt, biasAt, vAt] = [at(padded), at(out), at(bias ?? zeros!), at(matrices)];
  const [low, high] = CLAMPS[activationName] ?? clamp;
  const threads = kernels.threads();
  const parts = threads.count * 4;
  for (let first = 0; first < tileRows; first += rowsPerPass) {
    const rows = Math.min(rowsPerPass, tileRows - first);
    const tiles = rows * tilesPerRow;
    const mAt = vAt + 4 * WINOGRAD_POSITIONS * tiles * inChannels;
    const [inPixel, outPixel] = [4 * inChannels, 4 * outChannels];
    const inputCall = (row: number): KernelCall => {
      const [image, tileRow] = [Math.floor(row / tileRowsPerImage), row % tileRowsPerImage];
      const from = xAt + ((image * paddedHeight + 2 * tileRow) * paddedWidth) * inPixel;
      return { fn: kernels.winograd.inputRowIndex, args: [from, vAt + (row - first) * tilesPerRow * inPixel, tilesPerRow, inChannels / 4, inPixel, paddedWidth * inPixel, tiles * inPixel] };
    };
    const outputCall = (row: number): KernelCall => {
      const [image, tileRow] = [Math.floor(row / tileRowsPerImage), row % tileRowsPerImage];
      const to = outAt + ((image * outHeight + 2 * tileRow) * outWidth) * outPixel;
      const args = [mAt + (row - first) * tilesPerRow * outPixel, to, tilesPerRow, outChannels / 4, tiles * outPixel, outPixel, outWidth * outPixel, biasAt, Math.min(2, outHeight - 2 * tileRow), outWidth - 2 * (tilesPerRow - 1), floatBits(low), floatBits(high)];
      return { fn: kernels.winograd.outputRowIndex, args };
    };
    const byRows = (call: (row: number) => KernelCall) => evenRuns(rows, Math.min(parts, rows)).map(([a, b]) => Array.from({ length: b - a }, (_, i) => call(first + a + i)));
    threads.run(byRows(inputCall));
    batchedProduct(threads, kernels.productTiles, {
      a: vAt,
      // Without plain matrices every column is in the panels, and the product reads no other.
      b: transformed.plain ?? 0,
      c: mAt,
      batches: WINOGRAD_POSITIONS,
      m: tiles,
      k: inChannels,
      n: outChannels,
      ...(transformed.packed !== undefined ? { packed: transformed.packed, prepacked: true } : {}),
    });
    threads.run(byRows(outputCall));
  }
  winogradConvolutions.count++;
  const after = AFTER[activationName];
  return after ? after(out, r, attrs, preluActivationWeights) : out;
};

/**
 * The filter's 16 transformed matrices G g Gᵀ ([in, out] each) as the product reads them, kept
 * while the filter's data lives: packed into the tiles' 16-column panels, and where the output
 * channels are not whole panels, plain too (the tiles read the last columns from there). Byte
 * offsets in the heap of the plain matrices and of the panels (undefined: not made).
 */
function transformedFilter(r: KernelRunner, kernels: WasmHeapKernels, filter: tf.TensorInfo): { plain: number | undefined; packed: number | undefined } {
  const [, , inChannels, outChannels] = filter.shape as [number, number, number, number];
  const matrixFloats = inChannels * outChannels;
  const plainFloats = WINOGRAD_POSITIONS * matrixFloats;
  const packedFloats = packedBytes(WINOGRAD_POSITIONS, inChannels, outChannels) / 4;
  const keepPlain = packedFloats < plainFloats;
  const wasm = r.backend as unknown as WasmHeapBackend;
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  const kept = derivedTensor(r.backend, r.backendName, filter, `winograd F(2x2, 3x3) ${filter.shape}`, () => {
    const result = wasm.makeOutput([(keepPlain ? plainFloats : 0) + packedFloats], 'float32');
    const scratch = keepPlain ? undefined : wasm.makeOutput([plainFloats], 'float32');
    try {
      const plainAt = at(scratch ?? result);
      kernels.winograd.filter(at(filter), plainAt, matrixFloats / 4, 4 * matrixFloats);
      if (packedFloats > 0) {
        const packedAt = at(result) + (keepPlain ? 4 * plainFloats : 0);
        packRightOperand(kernels.threads(), kernels.productTiles, { b: plainAt, batches: WINOGRAD_POSITIONS, m: 1, k: inChannels, n: outChannels }, packedAt);
      }
    } finally {
      if (scratch) wasm.disposeData(scratch.dataId);
    }
    return result;
  });
  const keptAt = at(kept);
  return { plain: keepPlain ? keptAt : undefined, packed: packedFloats > 0 ? keptAt + (keepPlain ? 4 * plainFloats : 0) : undefined };
}
