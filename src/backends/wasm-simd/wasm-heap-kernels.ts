import type * as tf from '@tensorflow/tfjs';
import { broadcastFunctions, type BroadcastOperation, type BroadcastRows } from './broadcast-binary.js';
import { binaryVectorsFunctions, binaryVectorsName } from './binary-vectors.js';
import { biasClampRowsFunction } from './bias-clamp.js';
import { clampVectorsFunction } from './clamp.js';
import { batchNormGradientFunction, channelAffineFunction } from './batch-norm.js';
import { maxPoolGradientRowFunction, type MaxPoolGradientRow } from './max-pool-gradient.js';
import { segmentRowsAddFunction, type SegmentRowsAdd } from './segment-sum.js';
import { outerTapsFunction } from './conv-filter-gradient.js';
import { depthwiseTapsFunction } from './depthwise-filter-gradient.js';
import type { TapTableFunctions } from './filter-taps.js';
import { startKernelThreads, type KernelThreads } from './kernel-threads.js';
import { productTileFunctions, productTilesOf, type ProductTiles } from './product-tiles.js';
import { productMultiplyAdd, type MultiplyAdd } from './relaxed-simd.js';
import { reluGradientFunction } from './relu-gradients.js';
import { padRowsFunction, zeroBytesFunction } from './pad-rows.js';
import { transpose4x4TileFunction, transposeBlocksFunction } from './transpose-blocks.js';
import { wasmModule } from './wasm-binary.js';
import { erfRowsFunction } from './erf.js';
import { geluGradientRowsFunction, geluRowsFunction } from './gelu.js';
import { expRowsFunction } from './exp.js';
import { softmaxGradientRowsFunction } from './softmax-gradient.js';
import { layerNormGradientRowsFunction, layerNormInputGradientRowsFunction, layerNormRowsFunction, layerNormRowsName, type LayerNormWeights } from './layer-norm.js';
import { winogradFunctionNames, winogradFunctions, type WinogradFilter, type WinogradFilterGradient } from './winograd.js';
import type { WinogradScheme } from './winograd-schemes.js';

/**
 * keras-bridge's own WebAssembly kernels, instantiated on tfjs-backend-wasm's memory, so that they
 * read and write tensors where the backend keeps them (no copy): kernels tfjs-backend-wasm 4.22
 * runs as plain loops where SIMD pays (docs/wasm-kernels.md). They run on the calling thread.
 */
export interface WasmHeapKernels {
  /** transpose4x4TileFunction's index (transpose-blocks.ts), for kernel-thread calls. */
  transpose4x4TileIndex: number;
  /** transposeBlocksFunction's index (transpose-blocks.ts), for kernel-thread calls. */
  transposeBlocksIndex: number;
  /** depthwiseTapsFunction's indices (depthwise-filter-gradient.ts), for kernel-thread calls. */
  depthwiseTaps: TapTableFunctions;
  /** outerTapsFunction's indices (conv-filter-gradient.ts), for kernel-thread calls. */
  outerTaps: TapTableFunctions;
  /** reluGradientFunction's indices (relu-gradients.ts), without a cap and with 6, for kernel-thread calls. */
  reluGradientIndex: number;
  relu6GradientIndex: number;
  /** channelAffine's index (batch-norm.ts), for kernel-thread calls. */
  channelAffineIndex: number;
  /** The broadcast function of that name (broadcast-binary.ts, broadcastFunctionName). */
  broadcast(name: string): BroadcastRows;
  /** The same function's index, for kernel-thread calls. */
  broadcastIndex(name: string): number;
  /** binaryVectorsFunction's index (binary-vectors.ts) for an operation, for kernel-thread calls: operands of one shape. */
  binaryVectorsIndex(operation: BroadcastOperation): number;
  /** batchNormGradientFunction's index (batch-norm.ts), for kernel-thread calls. */
  batchNormGradientIndex: number;
  productTiles: ProductTiles;
  /** How the product tiles multiply and add (relaxed-simd.ts): fused where the runtime and the machine can. */
  productMultiplyAdd: MultiplyAdd;
  maxPoolGradientRow: MaxPoolGradientRow;
  /** segment-sum.ts: rows added to the rows their ids name (UnsortedSegmentSum), on the calling thread. */
  segmentRowsAdd: SegmentRowsAdd;
  /** A Winograd scheme's transforms (winograd.ts): the filter's two, and the row transforms' indices for kernel-thread calls. */
  winograd(scheme: WinogradScheme): WinogradKernels;
  /** biasClampRows' index (bias-clamp.ts), for kernel-thread calls: a product's epilogue. */
  biasClampRowsIndex: number;
  /** clampVectors' index (clamp.ts), for kernel-thread calls: Relu (heap-clamp.ts). */
  clampVectorsIndex: number;
  /** padRows' and zeroBytes' indices (pad-rows.ts), for kernel-thread calls: PadV2 (heap-pad.ts). */
  padRowsIndex: number;
  zeroBytesIndex: number;
  /** erfRows' index (erf.ts), for kernel-thread calls. */
  erfRowsIndex: number;
  /** geluRows' index (gelu.ts), for kernel-thread calls. */
  geluRowsIndex: number;
  /** geluGradientRows' index (gelu.ts), for kernel-thread calls. */
  geluGradientRowsIndex: number;
  /** expRows' index (exp.ts), for kernel-thread calls. */
  expRowsIndex: number;
  /** softmaxGradientRows' index (softmax-gradient.ts), for kernel-thread calls. */
  softmaxGradientRowsIndex: number;
  /** The index of layerNormRows for these weights (layer-norm.ts), for kernel-thread calls. */
  layerNormRowsIndex(weights: LayerNormWeights): number;
  /** layerNormGradientRows' and layerNormInputGradientRows' indices (layer-norm.ts), for kernel-thread calls. */
  layerNormGradientRowsIndex: number;
  layerNormInputGradientRowsIndex: number;
  /** The threads kernels may cut their work for, started on first use (kernel-threads.ts). */
  threads(): KernelThreads;
  /** The heap as 32-bit integers, current after the heap grew (a grown heap detaches old views). */
  int32Heap(): Int32Array;
  /** The heap as float32, current after the heap grew. */
  float32Heap(): Float32Array;
}

/** One Winograd scheme's transforms in the module (winograd.ts). */
export interface WinogradKernels {
  filter: WinogradFilter;
  filterGradient: WinogradFilterGradient;
  inputRowIndex: number;
  outputRowIndex: number;
  gradientRowIndex: number;
}

/** The parts of tfjs-backend-wasm's backend this module uses. */
interface WasmBackendModule {
  wasm?: { wasmMemory?: WebAssembly.Memory; asm?: Record<string, unknown> };
}

/** Per memory, its kernels, or null where the module did not instantiate (not tried again at every kernel call). */
const instances = new WeakMap<WebAssembly.Memory, WasmHeapKernels | null>();

/**
 * The backend's WebAssembly.Memory: the threaded build's module holds it as `wasmMemory`, the
 * single-threaded build's instance exports it as `memory`. Undefined on a backend without either.
 */
export function backendMemory(backend: tf.KernelBackend): WebAssembly.Memory | undefined {
  const module = (backend as unknown as WasmBackendModule).wasm;
  if (module?.wasmMemory instanceof WebAssembly.Memory) return module.wasmMemory;
  const exported = module?.asm?.['memory'];
  return exported instanceof WebAssembly.Memory ? exported : undefined;
}

/** The kernels' module (its binary) for a memory shared or not, with the tiles' multiply-adds fused or apart. */
export function kernelModuleBytes(memory: { shared: boolean }, multiplyAdd: MultiplyAdd): { bytes: Uint8Array<ArrayBuffer>; names: string[] } {
  const functions = kernelFunctions(multiplyAdd);
  return { bytes: wasmModule(memory, functions), names: functions.map((f) => f.name) };
}

function kernelFunctions(multiplyAdd: MultiplyAdd) {
  return [
    transpose4x4TileFunction(),
    transposeBlocksFunction(),
    depthwiseTapsFunction(16),
    depthwiseTapsFunction(4),
    outerTapsFunction(16),
    outerTapsFunction(4),
    reluGradientFunction(undefined),
    reluGradientFunction(6),
    channelAffineFunction(),
    batchNormGradientFunction(),
    ...broadcastFunctions(),
    ...binaryVectorsFunctions(),
    ...productTileFunctions(multiplyAdd),
    maxPoolGradientRowFunction(),
    segmentRowsAddFunction(),
    ...winogradFunctions(),
    erfRowsFunction(),
    geluRowsFunction(),
    geluGradientRowsFunction(),
    expRowsFunction(),
    softmaxGradientRowsFunction(),
    ...[false, true].flatMap((scale) => [false, true].map((center) => layerNormRowsFunction({ scale, center }))),
    layerNormGradientRowsFunction(),
    layerNormInputGradientRowsFunction(),
    biasClampRowsFunction(),
    clampVectorsFunction(),
    padRowsFunction(),
    zeroBytesFunction(),
  ];
}

/** The kernels on `backend`'s memory, made once per memory; undefined where it cannot be reached or the module does not instantiate. */
export function wasmHeapKernels(backend: tf.KernelBackend): WasmHeapKernels | undefined {
  const memory = backendMemory(backend);
  if (!memory) return undefined;
  const known = instances.get(memory);
  if (known !== undefined) return known ?? undefined;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const instantiate = (multiplyAdd: MultiplyAdd) => {
    const { bytes, names } = kernelModuleBytes({ shared }, multiplyAdd);
    const module = new WebAssembly.Module(bytes);
    return { module, exports: new WebAssembly.Instance(module, { env: { memory } }).exports, names, multiplyAdd };
  };
  let built: ReturnType<typeof instantiate>;
  try {
    try {
      built = instantiate(productMultiplyAdd());
    } catch (error) {
      // Relaxed SIMD validated alone but not here: the plain instructions, which every SIMD runtime runs.
      if (productMultiplyAdd() === 'separate') throw error;
      built = instantiate('separate');
    }
  } catch {
    // A runtime without SIMD or threads: tfjs's own kernels run instead.
    instances.set(memory, null);
    return undefined;
  }
  const { module, exports, names } = built;
  let int32 = new Int32Array(memory.buffer);
  let float32 = new Float32Array(memory.buffer);
  const current = () => {
    if (int32.buffer !== memory.buffer || int32.byteLength !== memory.buffer.byteLength) {
      int32 = new Int32Array(memory.buffer);
      float32 = new Float32Array(memory.buffer);
    }
  };
  let threads: KernelThreads | undefined;
  const kernels: WasmHeapKernels = {
    transpose4x4TileIndex: names.indexOf('transpose4x4Tile'),
    transposeBlocksIndex: names.indexOf('transposeBlocks'),
    depthwiseTaps: { wide: names.indexOf('depthwiseTaps16'), narrow: names.indexOf('depthwiseTaps4') },
    outerTaps: { wide: names.indexOf('outerTaps16'), narrow: names.indexOf('outerTaps4') },
    reluGradientIndex: names.indexOf('reluGradient'),
    relu6GradientIndex: names.indexOf('relu6Gradient'),
    channelAffineIndex: names.indexOf('channelAffine'),
    broadcast: (name) => {
      const f = exports[name];
      if (typeof f !== 'function') throw new Error(`no wasm SIMD broadcast function '${name}'`);
      return f as BroadcastRows;
    },
    broadcastIndex: (name) => {
      const at = names.indexOf(name);
      if (at < 0) throw new Error(`no wasm SIMD broadcast function '${name}'`);
      return at;
    },
    binaryVectorsIndex: (operation) => names.indexOf(binaryVectorsName(operation)),
    batchNormGradientIndex: names.indexOf('batchNormGradient'),
    productTiles: productTilesOf(names),
    productMultiplyAdd: built.multiplyAdd,
    maxPoolGradientRow: exports['maxPoolGradientRow'] as MaxPoolGradientRow,
    segmentRowsAdd: exports['segmentRowsAdd'] as SegmentRowsAdd,
    winograd: (scheme) => {
      const named = winogradFunctionNames(scheme);
      const index = (name: string) => {
        const at = names.indexOf(name);
        if (at < 0) throw new Error(`no wasm SIMD Winograd function '${name}'`);
        return at;
      };
      return {
        filter: exports[named.filter] as WinogradFilter,
        filterGradient: exports[named.filterGradient] as WinogradFilterGradient,
        inputRowIndex: index(named.inputRow),
        outputRowIndex: index(named.outputRow),
        gradientRowIndex: index(named.gradientRow),
      };
    },
    erfRowsIndex: names.indexOf('erfRows'),
    geluRowsIndex: names.indexOf('geluRows'),
    geluGradientRowsIndex: names.indexOf('geluGradientRows'),
    expRowsIndex: names.indexOf('expRows'),
    softmaxGradientRowsIndex: names.indexOf('softmaxGradientRows'),
    layerNormRowsIndex: (weights) => names.indexOf(layerNormRowsName(weights)),
    layerNormGradientRowsIndex: names.indexOf('layerNormGradientRows'),
    layerNormInputGradientRowsIndex: names.indexOf('layerNormInputGradientRows'),
    biasClampRowsIndex: names.indexOf('biasClampRows'),
    clampVectorsIndex: names.indexOf('clampVectors'),
    padRowsIndex: names.indexOf('padRows'),
    zeroBytesIndex: names.indexOf('zeroBytes'),
    threads: () => (threads ??= startKernelThreads(module, memory, names, names.map((name) => exports[name] as (...args: number[]) => void))),
    int32Heap: () => {
      current();
      return int32;
    },
    float32Heap: () => {
      current();
      return float32;
    },
  };
  instances.set(memory, kernels);
  return kernels;
}
