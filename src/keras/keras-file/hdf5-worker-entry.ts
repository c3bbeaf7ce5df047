import { parentPort } from 'node:worker_threads';
import { KerasBridgeError } from '../../errors.js';
import type { Hdf5Request } from './hdf5-tasks.js';

// The reader's modules load as the thread starts, while its caller is still reading the zip
// (prewarmHdf5Reader). h5wasm is not among them: a Keras 3 weights file is read by the TypeScript
// reader (hdf5-lite/), and h5wasm is loaded, with its tier-up budget, by the first file that needs it.
const reader = Promise.all([import('./hdf5-file.js'), import('./hdf5-tasks.js')]);
// A reader that failed to load fails each request below, with its error.
reader.catch(() => undefined);

/** The worker side of hdf5-worker.ts: each request's answer (dataset bytes transferred) or its error. */
parentPort!.on('message', (request: Hdf5Request) => {
  const answered = request.kind !== 'recycle';
  reader
    .then(([, tasks]) => tasks.runHdf5Request(request))
    .then(
      (result) => {
        if (!answered) return;
        const buffers = 'bytes' in result ? [...new Set(result.bytes.map((b) => b.buffer as ArrayBuffer))] : [];
        parentPort!.postMessage({ result }, buffers);
      },
      async (e: unknown) => {
        const error = e instanceof Error ? e : new Error(String(e));
        const trapped = await reader.then(([file]) => file.h5wasmTrapped()).catch(() => false);
        // A system error keeps its errno, syscall and path: a copy's write to a full disk is the output's error (output-directory.ts).
        const { code, syscall, path } = error as NodeJS.ErrnoException;
        const system = typeof code === 'string' ? { code, ...(syscall ? { syscall } : {}), ...(path ? { path } : {}) } : undefined;
        parentPort!.postMessage({ error: { name: error.name, message: error.message, stack: error.stack, typed: error instanceof KerasBridgeError, ...(system ? { system } : {}) }, trapped });
      },
    );
});
