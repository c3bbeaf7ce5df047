import tf from '#tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import { activationAfter, activationClamp, float32Bits } from './conv-activations.js';
import { nhwcConv2DInfo } from './conv-info.js';
import { derivedTensor } from './derived-tensors.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';
import { batchedProduct, batchStride, evenRuns, packedBytes, packRightOperand } from '../wasm-simd/product-tiles.js';
import { wasmHeapKernels, type WasmHeapKernels, type WinogradKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { F2x2_3x3, F4x4_3x3, type WinogradScheme } from '../wasm-simd/winograd-schemes.js';
import type { KernelCall } from '../wasm-simd/kernel-threads.js';

/** How many convolutions ran as Winograd, in all and by scheme name (tests check the path a case took). */
export const winogradConvolutions: { count: number; byScheme: Record<string, number> } = { count: 0, byScheme: {} };

function counted(scheme: WinogradScheme): void {
  winogradConvolutions.count++;
  winogradConvolutions.byScheme[scheme.name] = (winogradConvolutions.byScheme[scheme.name] ?? 0) + 1;
}

/**
 * Multiply-adds (of the direct convolution) from which a 3x3 convolution runs as Winograd; below,
 * tfjs-backend-wasm's XNNPACK convolution. Tests lower it to reach the edges.
 */
export const winogradFrom = {
  macs: 1 << 22,
  /** Scratch bytes one pass of the transformed input and products may take; a larger convolution runs in passes of whole tile rows. */
  passBytes: 32 << 20,
  /**
   * Tiles (over the batch) from which a scheme of tiles larger than F(2x2, 3x3)'s takes a
   * convolution; below, F(2x2, 3x3). Each product reads the transformed filter once per tile row
   * block, so with few tiles it reads more than it multiplies: at batch 1, F(4x4, 3x3) took
   * ResNet50's 14x14x256 convolutions (16 tiles) 1.39 → 1.57 ms and its 7x7x512 ones (4 tiles)
   * 2.30 → 3.10 ms, and its 28x28x128 ones (49 tiles) 1.34 → 1.08 ms.
   */
  largerTilesFrom: 32,
};

/**
 * Which Winograd scheme each use takes (winograd-schemes.ts), as measured on ResNet50's parity run
 * against Keras (docs/wasm-kernels.md, "Winograd"):
 * - `forward`: a convolution run with no gradient tape recording (inference: predict, a layer's
 *   output): F(4x4, 3x3), 36 products per 16 outputs. Its outputs stay as close to Keras as
 *   F(2x2, 3x3)'s.
 * - `recordedForward`: a convolution whose gradients will be taken, or in a training-mode pass
 *   (asTrainingPass): F(2x2, 3x3). With F(4x4, 3x3) there, the larger rounding of the activations
 *   reached the gradients: 3 of ResNet50's weight gradients failed (median ratio to the allowance
 *   0.005 → 0.08).
 * - `inputGradient`: the convolution of dy with the turned filter (conv-backprop-composed.ts):
 *   F(4x4, 3x3); the gradients' comparison did not move.
 * - `filterGradient`: F(2x2, 3x3), whose adjoint sums each tap over fewer transformed terms.
 * KERAS_BRIDGE_WASM_WINOGRAD=2 sets forward and inputGradient to F(2x2, 3x3) (registerWasm reads
 * it); tests set these directly.
 */
export const winogradSchemes: { forward: WinogradScheme; recordedForward: WinogradScheme; inputGradient: WinogradScheme; filterGradient: WinogradScheme } = {
  forward: F4x4_3x3,
  recordedForward: F2x2_3x3,
  inputGradient: F4x4_3x3,
  filterGradient: F2x2_3x3,
};

/** Whether a gradient tape is recording (tf.grad, variableGrads, a layer model's fit): its forward pass's activations feed the gradients. */
function gradientTapeRecording(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

let trainingPasses = 0;

/**
 * Runs `pass`, a training-mode forward pass that records no gradients (the parity check's
 * training-mode layer outputs), with the convolutions a recorded pass takes: batch statistics over
 * few examples amplify rounding, and with F(4x4, 3x3) 7 more of ResNet50's training-mode layer
 * outputs went past their allowance (0.84-0.98 → 1.00-1.11).
 */
export function asTrainingPass<T>(pass: () => T): T {
  trainingPasses++;
  try {
    return pass();
  } finally {
    trainingPasses--;
  }
}

/** The scheme a convolution with these attributes takes now (winogradSchemes). */
function convolutionScheme(attrs: tf.NamedAttrMap): WinogradScheme {
  if (attrs[INPUT_GRADIENT_ATTR] === true) return winogradSchemes.inputGradient;
  return gradientTapeRecording() || trainingPasses > 0 ? winogradSchemes.recordedForward : winogradSchemes.forward;
}

/** An attribute conv2DBackpropInput gives its Conv2D of dy and the turned filter: that convolution takes winogradSchemes.inputGradient. */
export const INPUT_GRADIENT_ATTR = 'kerasBridgeInputGradient';

/** Which scheme a wasm backend's 3x3 convolutions take: `4` (or unset, `auto`) F(4x4, 3x3), `2` F(2x2, 3x3). */
export const WASM_WINOGRAD_VARIABLE = 'KERAS_BRIDGE_WASM_WINOGRAD';

/** The convolution's scheme KERAS_BRIDGE_WASM_WINOGRAD asks for, or a message naming the variable for a value it does not take. */
export function requestedWinogradScheme(env: Record<string, string | undefined> | undefined): WinogradScheme | { invalid: string } {
  const raw = env?.[WASM_WINOGRAD_VARIABLE]?.trim();
  if (raw === undefined || raw === '' || raw === 'auto' || raw === '4') return F4x4_3x3;
  if (raw === '2') return F2x2_3x3;
  return { invalid: `${WASM_WINOGRAD_VARIABLE}=${JSON.stringify(env?.[WASM_WINOGRAD_VARIABLE])}: expected 4 or auto (3x3 convolutions as Winograd F(4x4, 3x3)) or 2 (F(2x2, 3x3), closer to direct convolution's rounding)` };
}

/**
 * tfjs-backend-wasm's Conv2D and FusedConv2D, for a 3x3 filter of stride 1 and dilation 1 on
 * NHWC float32 with channels in whole vectors of 4, as Winograd's F(m x m, 3x3) (the scheme
 * convolutionScheme picks; wasm-simd/winograd.ts): (m + 2)² products per m x m block of outputs
 * and input channel where XNNPACK's direct convolution takes 9·m², in keras-bridge's SIMD tiles on
 * the kernel threads. The filter's transform G g Gᵀ, packed into the tiles' panels, is kept while
 * the filter's data lives (derived-tensors.ts). Per pass of whole tile rows: the input (zero-padded
 * to whole tiles) transformed into (m + 2)² matrices [tiles, in], as many products with the
 * filter's [in, out], and the output transform with the bias and a clamping activation (linear,
 * relu, relu6; others run after it). Its sums differ from the direct convolution's by float32
 * rounding of the transforms (docs/wasm-kernels.md has the measured error). Anything else, or a
 * small convolution: undefined, and XNNPACK runs it.
 */
export const winogradConv2D: ComposedCompute = (inputs, attrs, r) => {
  const { x, filter, bias, preluActivationWeights } = inputs;
  if (!x || !filter || filter.dtype !== 'float32') return undefined;
  // An activation the output transform cannot clamp to runs after it, on the linear output.
  const clamp = activationClamp(attrs, preluActivationWeights);
  if (!clamp) return undefined;
  const plan = winogradPlan(r.backend, x, filter.shape, attrs, convolutionScheme(attrs));
  if (!plan) return undefined;
  const { kernels, transforms, positions, tile, inChannels, outChannels, outHeight, outWidth, tilesPerRow } = plan;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== outChannels)) return undefined;
  const wasm = r.backend as unknown as WasmHeapBackend;
  const transformed = transformedFilter(r, plan, filter);
  const padded = paddedInput(r, x, plan);
  // Offsets in the heap stay valid when making a tensor grows it; views (the fill below) do not.
  const out = r.track(wasm.makeOutput([plan.info.batchSize, outHeight, outWidth, outChannels], 'float32'));
  const inPixel = 4 * inChannels;
  const outPixel = 4 * outChannels;
  // The matrices a whole pass takes, each an odd number of cache lines apart (batchStride).
  const strides = (tiles: number) => [batchStride(tiles * inPixel), batchStride(tiles * outPixel)] as const;
  const [vMost, mMost] = strides(plan.rowsPerPass * tilesPerRow);
  const matrices = r.track(wasm.makeOutput([(positions * (vMost + mMost)) / 4], 'float32'));
  const zeros = bias ? undefined : r.track(wasm.makeOutput([outChannels], 'float32'));
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  if (zeros) kernels.float32Heap().fill(0, at(zeros) / 4, at(zeros) / 4 + outChannels);
  const [xAt, outAt, biasAt, vAt] = [at(padded), at(out), at(bias ?? zeros!), at(matrices)];
  const [low, high] = clamp;
  const threads = kernels.threads();
  for (let first = 0; first < plan.tileRows; first += plan.rowsPerPass) {
    const rows = Math.min(plan.rowsPerPass, plan.tileRows - first);
    const tiles = rows * tilesPerRow;
    const [vStride, mStride] = strides(tiles);
    const mAt = vAt + positions * vStride;
    threads.run(inputTransformCalls(plan, threads.count, xAt, vAt, vStride, first, rows));
    batchedProduct(threads, kernels.productTiles, {
      a: vAt,
      // Without plain matrices every column is in the panels, and the product reads no other.
      b: transformed.plain ?? 0,
      c: mAt,
      batches: positions,
      m: tiles,
      k: inChannels,
      n: outChannels,
      aBatchBytes: vStride,
      cBatchBytes: mStride,
      ...(transformed.packed !== undefined ? { packed: transformed.packed, prepacked: true } : {}),
    });
    threads.run(
      byTileRows(threads.count, first, rows, (row) => {
        const { image, tileRow } = tileRowAt(plan, row);
        const to = outAt + (image * outHeight + tile * tileRow) * outWidth * outPixel;
        const edge = [Math.min(tile, outHeight - tile * tileRow), outWidth - tile * (tilesPerRow - 1)];
        return { fn: transforms.outputRowIndex, args: [mAt + (row - first) * tilesPerRow * outPixel, to, tilesPerRow, outChannels / 4, mStride, outPixel, outWidth * outPixel, biasAt, ...edge, float32Bits(low), float32Bits(high)] };
      }),
    );
  }
  counted(plan.scheme);
  return activationAfter(out, r, attrs, preluActivationWeights);
};

/**
 * Conv2DBackpropFilter of the convolutions winogradConv2D takes, by the same algorithm's adjoint:
 * y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A is linear in g, so dL/dg = Gᵀ[Σ (A e Aᵀ) ⊙ (Bᵀ d B)]G, the sum over
 * every tile, e its m x m block of dy (zeros past the output's edge), in winogradSchemes.filterGradient.
 * Per pass of whole tile rows: the input's transform as forward, dy's (wasm-simd/winograd.ts,
 * winogradGradientRow), and (m + 2)² products [in, tiles]·[tiles, out] (BatchMatMul with its first
 * operand transposed: the SIMD transpose, then the tiles), the passes' sums added; then Gᵀ M G into
 * the 9 taps. For F(2x2, 3x3), 16 multiply-adds per tile and channel pair where the direct gradient
 * (im2col and one product) takes 36.
 * Undefined where winogradConv2D would leave the convolution to XNNPACK.
 */
export const winogradConv2DBackpropFilter: ComposedCompute = (inputs, attrs, r) => {
  const { x, dy } = inputs;
  const filterShape = attrs['filterShape'] as number[] | undefined;
  if (!x || !dy || !filterShape || dy.dtype !== 'float32' || dy.shape.length !== 4) return undefined;
  const plan = winogradPlan(r.backend, x, filterShape, attrs, winogradSchemes.filterGradient);
  if (!plan || dy.shape[1] !== plan.outHeight || dy.shape[2] !== plan.outWidth || dy.shape[3] !== plan.outChannels) return undefined;
  const { kernels, transforms, positions, tile, inChannels, outChannels, tileRowsPerImage, tilesPerRow } = plan;
  const wasm = r.backend as unknown as WasmHeapBackend;
  const padded = paddedInput(r, x, plan);
  const dyPadded = r.padOrCut(dy, [0, tile * tileRowsPerImage - plan.outHeight], [0, tile * tilesPerRow - plan.outWidth]);
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  const [xAt, dyAt] = [at(padded), at(dyPadded)];
  const outPixel = 4 * outChannels;
  const dyRowBytes = tile * tilesPerRow * outPixel;
  const threads = kernels.threads();
  let sum: tf.TensorInfo | undefined;
  for (let first = 0; first < plan.tileRows; first += plan.rowsPerPass) {
    const rows = Math.min(plan.rowsPerPass, plan.tileRows - first);
    const tiles = rows * tilesPerRow;
    const v = wasm.makeOutput([positions, tiles, inChannels], 'float32');
    const u = wasm.makeOutput([positions, tiles, outChannels], 'float32');
    try {
      const uAt = at(u);
      threads.run(inputTransformCalls(plan, threads.count, xAt, at(v), 4 * tiles * inChannels, first, rows));
      threads.run(
        byTileRows(threads.count, first, rows, (row) => {
          const { image, tileRow } = tileRowAt(plan, row);
          const from = dyAt + (image * tile * tileRowsPerImage + tile * tileRow) * dyRowBytes;
          return { fn: transforms.gradientRowIndex, args: [from, uAt + (row - first) * tilesPerRow * outPixel, tilesPerRow, outChannels / 4, outPixel, dyRowBytes, tiles * outPixel] };
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
  transforms.filterGradient(at(sum!), at(gradient), (inChannels * outChannels) / 4, 4 * inChannels * outChannels);
  counted(plan.scheme);
  return gradient;
};

/** A convolution's geometry as a Winograd scheme walks it. */
interface WinogradPlan {
  kernels: WasmHeapKernels;
  scheme: WinogradScheme;
  transforms: WinogradKernels;
  /** The scheme's outputs per tile side (m) and transformed positions ((m + 2)²). */
  tile: number;
  positions: number;
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
  /** The input padded to whole tiles and 2 rows and columns more: the (m + 2)² block under every tile. */
  paddedHeight: number;
  paddedWidth: number;
}

/** The plan for x and a filter of `filterShape` under the convolution's `attrs`, or undefined where Winograd does not take it (winogradConv2D). */
function winogradPlan(backend: tf.KernelBackend, x: tf.TensorInfo, filterShape: readonly number[], attrs: tf.NamedAttrMap, scheme: WinogradScheme): WinogradPlan | undefined {
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
  if (scheme.outputTile > F2x2_3x3.outputTile && batchSize * Math.ceil(outHeight / scheme.outputTile) * Math.ceil(outWidth / scheme.outputTile) < winogradFrom.largerTilesFrom) scheme = F2x2_3x3;
  const { outputTile: tile, positions } = scheme;
  const [tileRowsPerImage, tilesPerRow] = [Math.ceil(outHeight / tile), Math.ceil(outWidth / tile)];
  const tileRows = batchSize * tileRowsPerImage;
  const rowBytes = positions * tilesPerRow * (inChannels + outChannels) * 4;
  const rowsPerPass = Math.max(1, Math.min(tileRows, Math.floor(winogradFrom.passBytes / rowBytes)));
  const transforms = kernels.winograd(scheme);
  return { kernels, scheme, transforms, tile, positions, info, inChannels, outChannels, outHeight, outWidth, tileRowsPerImage, tilesPerRow, tileRows, rowsPerPass, paddedHeight: tile * tileRowsPerImage + 2, paddedWidth: tile * tilesPerRow + 2 };
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

/** The input transform of a pass's tile rows into the scheme's matrices at byte `vAt`, `matrixBytes` apart. */
function inputTransformCalls(plan: WinogradPlan, threads: number, xAt: number, vAt: number, matrixBytes: number, first: number, rows: number): KernelCall[][] {
  const inPixel = 4 * plan.inChannels;
  const rowBytes = plan.paddedWidth * inPixel;
  return byTileRows(threads, first, rows, (row) => {
    const { image, tileRow } = tileRowAt(plan, row);
    const from = xAt + (image * plan.paddedHeight + plan.tile * tileRow) * rowBytes;
    return { fn: plan.transforms.inputRowIndex, args: [from, vAt + (row - first) * plan.tilesPerRow * inPixel, plan.tilesPerRow, plan.inChannels / 4, inPixel, rowBytes, matrixBytes] };
  });
}

/**
 * The filter's (m + 2)² transformed matrices G g Gᵀ ([in, out] each) as the product reads them, kept
 * while the filter's data lives: packed into the tiles' 16-column panels, and where the output
 * channels are not whole panels, plain too (the tiles read the last columns from there). Byte
 * offsets in the heap of the plain matrices and of the panels (undefined: not made).
 */
function transformedFilter(r: KernelRunner, plan: WinogradPlan, filter: tf.TensorInfo): { plain: number | undefined; packed: number | undefined } {
  const { kernels, transforms, positions, scheme } = plan;
  const [, , inChannels, outChannels] = filter.shape as [number, number, number, number];
  const matrixFloats = inChannels * outChannels;
  const plainFloats = positions * matrixFloats;
  const packedFloats = packedBytes(positions, inChannels, outChannels) / 4;
  const keepPlain = packedFloats < plainFloats;
  const wasm = r.backend as unknown as WasmHeapBackend;
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  const kept = derivedTensor(r.backend, r.backendName, filter, `winograd ${scheme.name} ${filter.shape}`, () => {
    const result = wasm.makeOutput([(keepPlain ? plainFloats : 0) + packedFloats], 'float32');
    const scratch = keepPlain ? undefined : wasm.makeOutput([plainFloats], 'float32');
    try {
      const plainAt = at(scratch ?? result);
      transforms.filter(at(filter), plainAt, matrixFloats / 4, 4 * matrixFloats);
      if (packedFloats > 0) {
        const packedAt = at(result) + (keepPlain ? 4 * plainFloats : 0);
        packRightOperand(kernels.threads(), kernels.productTiles, { b: plainAt, batches: positions, m: 1, k: inChannels, n: outChannels }, packedAt);
      }
    } finally {
      if (scratch) wasm.disposeData(scratch.dataId);
    }
    return result;
  });
  const keptAt = at(kept);
  return { plain: keepPlain ? keptAt : undefined, packed: packedFloats > 0 ? keptAt + (keepPlain ? 4 * plainFloats : 0) : undefined };
}
