/** A page task (BrowserSession.runTask): what the chromium-wasm page's wasm backend runs on. */
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';

export function wasmThreadsInPage(): { threads: number; isolated: boolean } {
  return { threads: getThreadsCount(), isolated: globalThis.crossOriginIsolated };
}
