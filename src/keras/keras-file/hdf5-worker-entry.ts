import { parentPort } from 'node:worker_threads';
import { KerasBridgeError } from '../../errors.js';
import { h5wasmTrapped } from './hdf5-file.js';
import { runHdf5Task, type Hdf5Task } from './hdf5-tasks.js';

/** The worker side of hdf5-worker.ts: each task, its result (weight bytes transferred) or its error. */
parentPort!.on('message', (task: Hdf5Task) => {
  runHdf5Task(task).then(
    (result) => {
      const buffers = [...new Set(result.weights.map((w) => w.bytes.buffer as ArrayBuffer))];
      parentPort!.postMessage({ result }, buffers);
    },
    (e: unknown) => {
      const error = e instanceof Error ? e : new Error(String(e));
      parentPort!.postMessage({ error: { name: error.name, message: error.message, stack: error.stack, typed: error instanceof KerasBridgeError }, trapped: h5wasmTrapped() });
    },
  );
});
