import * as tf from '@tensorflow/tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import { activationAfter, activationClamp, float32Bits } from './conv-activations.js';
import { nhwcConv2DInfo } from './conv-info.js';
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
  if (!x || !filter || filter.dtype !== 'float32') return undefined;
  // An activation the output transform cannot clamp to runs after it, on the linear output.
  const clamp = activationClamp(attrs, preluActivationWeights);
  if (!clamp) return undefined;
  const plan = winogradPlan(r.backend, x, filter.shape, attrs);
  if (!plan) return undefined;
  const { kernels, inChannels, outChannels, outHeight, outWidth, tilesPerRow } = plan;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== outChannels)) return undefined;
  const wasm = r.backend as unknown as WasmHeapBackend;
  const transformed = transformedFilter(r, kernels, filter);
  const padded = paddedInput(r, x, plan);
  // Offsets in the heap stay valid when making a tensor grows it; views (the fill below) do not.
  const out = r.track(wasm.makeOutput([plan.info.batchSize, outHeight, outWidth, outChannels], 'float32'));
  const matrices = r.track(wasm.makeOutput([WINOGRAD_POSITIONS * plan.rowsPerPass * tilesPerRow * (inChannels + outChannels)], 'float32'));
  const zeros = bias ? undefined : r.track(wasm.makeOutput([outChannels], 'float32'));
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  if (zeros) kernels.float32Heap().fill(0, at(zeros) / 4, at(zeros) / 4 + outChannels);
  const [xAt, outAt, biasAt, vAt] = [at(padded), at(out), at(bias ?? zeros!), at(matrices)];
  const [low, high] = clamp;
  const threads = kernels.threads();
  const outPixel = 4 * outChannels;
  for (let first = 0; first < plan.tileRows; first += plan.rowsPerPass) {
    const rows = Math.min(plan.rowsPerPass, plan.tileRows - first);
    const tiles = rows * tilesPerRow;
    const mAt = vAt + 4 * WINOGRAD_POSITIONS * tiles * inChannels;
    threads.run(inputTransformCalls(plan, threads.count, xAt, vAt, first, rows));
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
    threads.run(
      byTileRows(threads.count, first, rows, (row) => {
        const { image, tileRow } = tileRowAt(plan, row);
        const to = outAt + (image * outHeight + 2 * tileRow) * outWidth * outPixel;
        const edge = [Math.min(2, outHeight - 2 * tileRow), outWidth - 2 * (tilesPerRow - 1)];
        return { fn: kernels.winograd.outputRowIndex, args: [mAt + (row - first) * tilesPerRow * outPixel, to, tilesPerRow, outChannels / 4, tiles * outPixel, outPixel, outWidth * outPixel, biasAt, ...edge, float32Bits(low), float32Bits(high)] };
      }),
    );
  }
  winogradConvolutions.count++;
  return activationAfter(out, r, attrs, preluActivationWeights);
};

/**
 * Conv2DBackpropFilter of the convolutions winogradConv2D takes, by the same algorithm's adjoint:
 * y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A is linear in g, so dL/dg = Gᵀ[Σ (A e Aᵀ) ⊙ (Bᵀ d B)]G, the sum over
 * every tile, e its 2x2 block of dy (zeros past an odd-sized output's edge). Per pass of whole tile
 * rows: the input's transform as forward, dy's (wasm-simd/winograd.ts, winogradGradientRow), and
 * 16 products [in, tiles]·[tiles, out] (BatchMatMul with its first operand transposed: the SIMD
 * transpose, then the tiles), the passes' sums added; then Gᵀ M G into the 9 taps. 16 multiply-adds
 * per tile and channel pair where the direct gradient (im2col and one product) takes 36.
 * Undefined where winogradConv2D would leave the convolution to XNNPACK.
 */
export const winogradConv2DBackpropFilter: ComposedCompute = (inputs, attrs, r) => {
  const { x, dy } = inputs;
  const filterShape = attrs['filterShape'] as number[] | undefined;
  if (!x || !dy || !filterShape || dy.dtype !== 'float32' || dy.shape.length !== 4) return undefined;
  const plan = winogradPlan(r.backend, x, filterShape, attrs);
  if (!plan || dy.shape[1] !== plan.outHeight || dy.shape[2] !== plan.outWidth || dy.shape[3] !== plan.outChannels) return undefined;
  const { kernels, inChannels, outChannels, tileRowsPerImage, tilesPerRow } = plan;
  const wasm = r.backend as unknown as WasmHeapBackend;
  const padded = paddedInput(r, x, plan);
  const dyPadded = r.padOrCut(dy, [0, 2 * tileRowsPerImage - plan.outHeight], [0, 2 * tilesPerRow - plan.outWidth]);
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  const [xAt, dyAt] = [at(padded), at(dyPadded)];
  const outPixel = 4 * outChannels;
  const dyRowBytes = 2 * tilesPerRow * outPixel;
  const threads = kernels.threads();
  let sum: tf.TensorInfo | undefined;
  for (let first = 0; first < plan.tileRows; first += plan.rowsPerPass) {
    const rows = Math.min(plan.rowsPerPass, plan.tileRows - first);
    const tiles = rows * tilesPerRow;
    const v = wasm.makeOutput([WINOGRAD_POSITIONS, tiles, inChannels], 'float32');
    const u = wasm.makeOutput([WINOGRAD_POSITIONS, tiles, outChannels], 'float32');
    try {
      const uAt = at(u);
      threads.run(inputTransformCalls(plan, threads.count, xAt, at(v), first, rows));
      threads.run(
        byTileRows(threads.count, first, rows, (row) => {
          const { image, tileRow } = tileRowAt(plan, row);
          const from = dyAt + (image * 2 * tileRowsPerImage + 2 * tileRow) * dyRowBytes;
          return { fn: kernels.winograd.gradientRowIndex, args: [from, uAt + (row - first) * tilesPerRow * outPixel, tilesPerRow, outChannels / 4, outPixel, dyRowBytes, tiles * outPixel] };
        }),
      );
      const products = r.run('BatchMatMul', { a: v, b: u }, { transposeA: true, transposeB: false });
      sum = sum ? r.run('Add', { a: sum, b: products }) : products;
    } finally {
      wasm.disposeData(v.dataId);
      wasm.disposeData(u.dataId);
    }
  }
  const gradient = r.track(wasm.makeOutput([3, 3, inChannels, outChannels], 'float32'));
  kernels.winograd.filterGradient(at(sum!), at(gradient), (inChannels * outChannels) / 4, 4 * inChannels * outChannels);
  winogradConvolutions.count++;
  return gradient;
};

/** A convolution's geometry as Winograd's F(2x2, 3x3) walks it. */
interface WinogradPlan {
  kernels: WasmHeapKernels;
  info: tf.backend_util.Conv2DInfo;
  inChannels: number;
  outChannels: number;
  outHeight: number;
  outWidth: number;
  tileRowsPerImage: number;
  tilesPerRow: number;
  /** Tile rows over the whole batch. */
  tileRows: number;
  /** Tile rows one pass takes (winogradFrom.passBytes of scratch). */
  rowsPerPass: number;
  /** The input padded to whole tiles and 2 rows and columns more: the 4x4 block under every tile. */
  paddedHeight: number;
  paddedWidth: number;
}

/** The plan for x and a filter of `filterShape` under the convolution's `attrs`, or undefined where Winograd does not take it (winogradConv2D). */
function winogradPlan(backend: tf.KernelBackend, x: tf.TensorInfo, filterShape: readonly number[], attrs: tf.NamedAttrMap): WinogradPlan | undefined {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || filterShape.length !== 4) return undefined;
  const [kh, kw, inChannels, outChannels] = filterShape as [number, number, number, number];
  if (kh !== 3 || kw !== 3 || inChannels % 4 !== 0 || outChannels % 4 !== 0 || x.shape[3] !== inChannels) return undefined;
  const info = nhwcConv2DInfo(x.shape, filterShape, attrs);
  if (!info) return undefined;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const { batchSize, outHeight, outWidth } = info;
  if (outHeight < 1 || outWidth < 1 || batchSize * outHeight * outWidth * inChannels * outChannels * 9 < winogradFrom.macs) return undefined;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) return undefined;
  const [tileRowsPerImage, tilesPerRow] = [Math.ceil(outHeight / 2), Math.ceil(outWidth / 2)];
  const tileRows = batchSize * tileRowsPerImage;
  const rowBytes = WINOGRAD_POSITIONS * tilesPerRow * (inChannels + outChannels) * 4;
  const rowsPerPass = Math.max(1, Math.min(tileRows, Math.floor(winogradFrom.passBytes / rowBytes)));
  return { kernels, info, inChannels, outChannels, outHeight, outWidth, tileRowsPerImage, tilesPerRow, tileRows, rowsPerPass, paddedHeight: 2 * tileRowsPerImage + 2, paddedWidth: 2 * tilesPerRow + 2 };
}

/** x zero-padded as the convolution pads it, then to the plan's whole tiles. */
function paddedInput(r: KernelRunner, x: tf.TensorInfo, plan: WinogradPlan): tf.TensorInfo {
  const { top, left } = plan.info.padInfo;
  const [height, width] = [x.shape[1]!, x.shape[2]!];
  return r.padOrCut(x, [top, plan.paddedHeight - height - top], [left, plan.paddedWidth - width - left]);
}

/** Which image and which of its tile rows a tile row over the batch is. */
function tileRowAt(plan: WinogradPlan, row: number): { image: number; tileRow: number } {
  return { image: Math.floor(row / plan.tileRowsPerImage), tileRow: row % plan.tileRowsPerImage };
}

/** Tile rows [first, first + rows) as chunks for the kernel threads (4 a thread), one call per row. */
function byTileRows(threads: number, first: number, rows: number, call: (row: number) => KernelCall): KernelCall[][] {
  return evenRuns(rows, Math.min(4 * threads, rows)).map(([a, b]) => Array.from({ length: b - a }, (_, i) => call(first + a + i)));
}

/** The input transform of a pass's tile rows into the 16 matrices at byte `vAt`. */
function inputTransformCalls(plan: WinogradPlan, threads: number, xAt: number, vAt: number, first: number, rows: number): KernelCall[][] {
  const inPixel = 4 * plan.inChannels;
  const rowBytes = plan.paddedWidth * inPixel;
  const tiles = rows * plan.tilesPerRow;
  return byTileRows(threads, first, rows, (row) => {
    const { image, tileRow } = tileRowAt(plan, row);
    const from = xAt + (image * plan.paddedHeight + 2 * tileRow) * rowBytes;
    return { fn: plan.kernels.winograd.inputRowIndex, args: [from, vAt + (row - first) * plan.tilesPerRow * inPixel, plan.tilesPerRow, plan.inChannels / 4, inPixel, rowBytes, tiles * inPixel] };
  });
}

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
