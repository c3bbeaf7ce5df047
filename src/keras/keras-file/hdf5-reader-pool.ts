import { Worker } from 'node:worker_threads';

/**
 * The HDF5 reader's threads that wait for a file: started ahead (prewarmHdf5Reader) or closed
 * their last file sound (hdf5-worker.ts). Unref'd: they never keep the process alive. This module
 * imports nothing else, so that the CLI starts a thread (which then compiles h5wasm, a few hundred
 * milliseconds) before it loads any of its own modules.
 */
const idle: Worker[] = [];

function startWorker(): Worker {
  const worker = new Worker(new URL('./hdf5-worker-entry.js', import.meta.url));
  worker.unref();
  return worker;
}

/**
 * Starts an HDF5 reader thread now, if none waits, so that it has loaded h5wasm by the time the
 * caller, still reading a zip, opens a file in it.
 */
export function prewarmHdf5Reader(): void {
  if (idle.length === 0) idle.push(startWorker());
}

/** A waiting reader thread, or a new one. */
export function takeHdf5Reader(): Worker {
  return idle.pop() ?? startWorker();
}

/** Puts a sound reader thread, its file closed, back for the next file. */
export function returnHdf5Reader(worker: Worker): void {
  idle.push(worker);
}
