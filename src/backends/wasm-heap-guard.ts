import type * as tf from '@tensorflow/tfjs';
import { BackendError } from '../errors.js';

/** wasm32 addresses at most 4 GiB: the heap of tfjs-backend-wasm cannot grow past it. */
const WASM32_LIMIT_BYTES = 2 ** 32;
const MB = 2 ** 20;

/** The parts of tfjs-backend-wasm's Emscripten module the guard uses. */
interface WasmModule {
  _malloc: (bytes: number) => number;
  asm?: { malloc?: (bytes: number) => number };
  HEAPU8: Uint8Array;
}

interface WasmBackendLike {
  wasm?: WasmModule;
  numDataIds?: () => number;
}

/** A tensor that does not fit in the wasm backend's heap: the model, batch or tape is too large for wasm32. */
export class WasmHeapExhaustedError extends BackendError {
  constructor(
    readonly requestedBytes: number,
    readonly heapBytes: number,
    readonly tensors: number | undefined,
  ) {
    const held = tensors === undefined ? '' : ` (${tensors} tensors hold memory)`;
    const where =
      requestedBytes >= WASM32_LIMIT_BYTES
        ? `it is larger than the ${WASM32_LIMIT_BYTES / MB} MB wasm32 can address`
        : heapBytes + requestedBytes > WASM32_LIMIT_BYTES
          ? `the heap is at ${mb(heapBytes)} of the ${WASM32_LIMIT_BYTES / MB} MB wasm32 can address${held}`
          : `the heap could not grow beyond ${mb(heapBytes)}${held}: this runtime refused more memory`;
    super(
      `the wasm backend is out of memory: a tensor of ${mb(requestedBytes)} does not fit, ${where}. ` +
        'Run a smaller batch (gradients keep every layer output of the batch until the backward pass ends), or the tensorflow backend, which has no such limit.',
    );
  }
}

const guarded = new WeakSet<object>();

/**
 * Makes the wasm backend throw WasmHeapExhaustedError when a tensor's memory cannot be allocated.
 * tfjs-backend-wasm 4.22 does not check malloc's result: when the heap cannot grow (wasm32's 4 GiB,
 * reached by ResNet50's tape at batch 32) malloc returns 0 and tfjs writes the tensor over the
 * heap's start, so the process later traps ("table index is out of bounds") or, with threads,
 * hangs. A request of 4 GiB or more wraps to a small 32-bit size and is refused before malloc.
 * Returns whether the backend is (now) guarded; any other backend is left alone. Idempotent.
 */
export function guardWasmHeap(backend: tf.KernelBackend | undefined): boolean {
  const candidate = backend as unknown as WasmBackendLike | undefined;
  const module = candidate?.wasm;
  if (!module || typeof module !== 'object') return false;
  if (guarded.has(module)) return true;
  // Emscripten's exported _malloc replaces itself with asm.malloc on first call, which would drop
  // a wrapper around it: wrap the raw export.
  const malloc = module.asm?.malloc;
  if (typeof malloc !== 'function') return false;
  module._malloc = (bytes: number): number => {
    if (bytes >= WASM32_LIMIT_BYTES) throw new WasmHeapExhaustedError(bytes, module.HEAPU8.length, candidate.numDataIds?.());
    const pointer = malloc(bytes);
    if (pointer === 0 && bytes > 0) throw new WasmHeapExhaustedError(bytes, module.HEAPU8.length, candidate.numDataIds?.());
    return pointer;
  };
  guarded.add(module);
  return true;
}

function mb(bytes: number): string {
  if (bytes < MB) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;
}
