import { BackendUnavailableError } from './backend-unavailable-error.js';

let registration: Promise<void> | undefined;

/**
 * Registers the `wasm` backend. In Node the package's main entry is its Node bundle, which finds
 * its .wasm files beside itself, so no setWasmPaths() is needed whatever the working directory.
 */
export function registerWasm(): Promise<void> {
  registration ??= import('@tensorflow/tfjs-backend-wasm').then(
    () => undefined,
    (error: unknown) => {
      throw new BackendUnavailableError('wasm', `loading @tensorflow/tfjs-backend-wasm failed: ${error instanceof Error ? error.message : String(error)}`);
    },
  );
  return registration;
}
