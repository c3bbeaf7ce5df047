/**
 * Runs in the Chromium page (a pageSetup step of chromium-wasm), before the wasm backend starts:
 * XNNPACK on one thread per core, as `wasm` in Node (docs/backends.md, "wasm threads"). The page is
 * cross-origin isolated (static-server.ts sends the headers), so tfjs loads its threaded build;
 * tfjs's C++ then caps the pool at half of navigator.hardwareConcurrency (it assumes two hardware
 * threads per core), which the page reports doubled for that reason. Imports nothing from Node.
 */
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/** Threads tfjs-backend-wasm's Emscripten build starts (its PTHREAD_POOL_SIZE). */
const MAX_THREADS = 8;

export function useEveryCore(): number {
  if (!globalThis.crossOriginIsolated) return 1;
  const cores = Math.min(navigator.hardwareConcurrency || 1, MAX_THREADS);
  Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * cores });
  setThreadsCount(cores);
  return cores;
}
