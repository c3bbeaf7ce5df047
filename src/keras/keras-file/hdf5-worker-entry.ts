import { parentPort } from 'node:worker_threads';
import { KerasBridgeError } from '../../errors.js';
import { h5wasmTrapped, loadH5wasm } from './hdf5-file.js';
import { runHdf5Request, type Hdf5Request } from './hdf5-tasks.js';

// Compiled as the thread starts, while its caller is still reading the zip (prewarmHdf5Reader).
void loadH5wasm();

/** The worker side of hdf5-worker.ts: each request's answer (dataset bytes transferred) or its error. */
parentPort!.on('message', (request: Hdf5Request) => {
  const answered = request.kind !== 'recycle';
  runHdf5Request(request).then(
    (result) => {
      if (!answered) return;
      const buffers = 'bytes' in result ? [...new Set(result.bytes.map((b) => b.buffer as ArrayBuffer))] : [];
      parentPort!.postMessage({ result }, buffers);
    },
    (e: unknown) => {
      const error = e instanceof Error ? e : new Error(String(e));
      parentPort!.postMessage({ error: { name: error.name, message: error.message, stack: error.stack, typed: error instanceof KerasBridgeError }, trapped: h5wasmTrapped() });
    },
  );
});
