import os from 'node:os';
import { BackendUnavailableError } from '../backend-unavailable-error.js';

/** Threads tfjs-backend-wasm's Emscripten build starts (its PTHREAD_POOL_SIZE); more cannot run. */
export const MAX_WASM_THREADS = 8;

export const WASM_THREADS_VARIABLE = 'KERAS_BRIDGE_WASM_THREADS';

/**
 * The XNNPACK threads the `wasm` backend runs with: KERAS_BRIDGE_WASM_THREADS when set (1 is
 * tfjs's own single-threaded build), else one per core this process may use, at most
 * MAX_WASM_THREADS (docs/backends.md, "wasm threads").
 */
export function requestedWasmThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[WASM_THREADS_VARIABLE];
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'auto') return Math.min(os.availableParallelism(), MAX_WASM_THREADS);
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < 1 || value > MAX_WASM_THREADS) {
    throw new BackendUnavailableError('wasm', `${WASM_THREADS_VARIABLE}=${JSON.stringify(raw)}: expected 'auto' or a whole number of threads from 1 to ${MAX_WASM_THREADS}`);
  }
  return value;
}
