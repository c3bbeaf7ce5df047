import { Worker } from 'node:worker_threads';
import { InputError, UnsupportedLayerError, WeightMismatchError, type KerasBridgeError } from '../../errors.js';
import type { Hdf5Task, Hdf5TaskResult } from './hdf5-tasks.js';

/** How long reading a model's HDF5 part may take: the largest keras.applications weights (1.4 GB) read in seconds. */
export const DEFAULT_HDF5_TIMEOUT_MS = 60_000;

const TYPED_ERRORS: Record<string, new (message: string) => KerasBridgeError> = {
  InputError,
  UnsupportedLayerError,
  WeightMismatchError,
};

interface TaskReply {
  result?: Hdf5TaskResult;
  error?: { name: string; message: string; stack?: string; typed: boolean };
  trapped?: boolean;
}

/** Workers that finished their task and wait for the next (unref'd: they never keep the process alive). */
const idle: Worker[] = [];

function takeWorker(): Worker {
  const worker = idle.pop() ?? new Worker(new URL('./hdf5-worker-entry.js', import.meta.url));
  worker.unref();
  return worker;
}

/**
 * Runs an HDF5 task (hdf5-tasks.ts) in a worker thread that is terminated after `timeoutMs`. HDF5
 * is synchronous WebAssembly: a damaged file whose structure loops (found by fuzzing: a few flipped
 * bytes in a B-tree) would otherwise spin forever with no way to stop it from the same thread.
 * A worker that answered is kept for the next task, unless h5wasm trapped in it; one that timed out is dropped.
 * Typed errors come back as themselves; the task's bytes are transferred when they can be.
 */
export function runHdf5TaskInWorker(task: Hdf5Task, timeoutMs = DEFAULT_HDF5_TIMEOUT_MS): Promise<Hdf5TaskResult> {
  return new Promise((resolve, reject) => {
    const worker = takeWorker();
    const whole = task.bytes.byteOffset === 0 && task.bytes.byteLength === task.bytes.buffer.byteLength;
    let settled = false;
    const finish = (keepWorker: boolean, fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (keepWorker) idle.push(worker);
      else void worker.terminate();
      fn();
    };
    // A worker whose h5wasm trapped (read out of bounds) is not reused: its memory is not trusted.
    // HDF5's own errors are its normal error path and leave it sound.
    const onMessage = (reply: TaskReply) =>
      finish(!reply.trapped, () => {
        if (reply.result) return resolve(reply.result);
        const { name, message, stack, typed } = reply.error!;
        const Typed = typed ? (TYPED_ERRORS[name] ?? InputError) : undefined;
        if (Typed) return reject(new Typed(message));
        const error = new Error(message);
        error.stack = stack ?? message;
        reject(error);
      });
    const onError = (e: Error) => finish(false, () => reject(e));
    const onExit = (code: number) => finish(false, () => reject(new Error(`the HDF5 reader's worker exited (${code}) without an answer`)));
    const timer = setTimeout(
      () =>
        finish(false, () =>
          reject(
            new InputError(
              `${task.file}: reading its HDF5 data did not finish in ${Math.round(timeoutMs / 1000)} s and was stopped: a damaged ` +
                `file whose structure loops. Re-save the model with Keras.`,
            ),
          ),
        ),
      timeoutMs,
    );
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(task, whole ? [task.bytes.buffer as ArrayBuffer] : []);
  });
}
