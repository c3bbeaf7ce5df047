/**
 * Helper threads for keras-bridge's SIMD kernels: each instantiates the kernels' module on the same
 * shared WebAssembly.Memory (tfjs-backend-wasm's threaded build), so that a kernel's work can be cut
 * into parts that run at once, one on the calling thread and one on each helper, on tensors where
 * the backend keeps them. The caller hands over calls of exported functions (an index and i32
 * arguments) through a small shared block and waits on it with Atomics: kernels stay synchronous,
 * as tfjs's kernel functions must be.
 *
 * Node only (worker_threads, and Atomics.wait on the main thread, which a browser page forbids);
 * elsewhere, or with one thread, the caller runs every part itself.
 */

/** One call of an exported kernel function: its index in the module's function list and its i32 arguments. */
export interface KernelCall {
  fn: number;
  args: readonly number[];
}

/** The threads a kernel may cut its work for: the caller and `count - 1` helpers. */
export interface KernelThreads {
  readonly count: number;
  /** Runs parts[0] on the calling thread and parts[i] on helper i - 1, all at once; returns when all are done. */
  run(parts: readonly (readonly KernelCall[])[]): void;
}

/** Int32 slots of a helper's control block: its state, whether it started, the number of calls, then 1 + ARGS per call. */
const STATE = 0;
const STARTED = 1;
const CALLS = 2;
const FIRST_CALL = 3;
/** Most i32 arguments a kernel function takes. */
const ARGS = 12;
const SLOTS_PER_CALL = 1 + ARGS;
/** Calls one part may hold: a product cut by batches makes up to 3 calls a batch per row run. */
const MAX_CALLS = 8192;

const IDLE = 0;
const POSTED = 1;
const DONE = 2;
const FAILED = 3;

/**
 * The helper's loop, run by worker_threads from source (no file to find beside the bundle). It
 * reaches worker_threads without require or import, so that it runs as a script and as a module
 * (a parent started with --input-type=module passes that on to its workers).
 */
const HELPER_SOURCE = `
const { workerData } = process.getBuiltinModule('node:worker_threads');
const { module, memory, control, names } = workerData;
const block = new Int32Array(control);
const messages = new Uint8Array(control, ${4 * (FIRST_CALL + MAX_CALLS * SLOTS_PER_CALL)});
let fns;
try {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  fns = names.map((name) => exports[name]);
  Atomics.store(block, ${STARTED}, 1);
} catch {
  Atomics.store(block, ${STARTED}, -1);
}
Atomics.notify(block, ${STARTED});
for (; fns;) {
  Atomics.wait(block, ${STATE}, ${IDLE});
  if (Atomics.load(block, ${STATE}) !== ${POSTED}) continue;
  let state = ${DONE};
  try {
    const calls = block[${CALLS}];
    for (let i = 0, at = ${FIRST_CALL}; i < calls; i++, at += ${SLOTS_PER_CALL}) {
      const fn = fns[block[at]];
      const args = [];
      for (let j = 1; j <= fn.length; j++) args.push(block[at + j]);
      fn(...args);
    }
  } catch (error) {
    const text = new TextEncoder().encode(String(error && error.message || error)).slice(0, messages.length - 1);
    messages.fill(0); messages.set(text);
    state = ${FAILED};
  }
  Atomics.store(block, ${STATE}, state);
  Atomics.notify(block, ${STATE});
  Atomics.wait(block, ${STATE}, state);
}
`;
const MESSAGE_BYTES = 512;

interface WorkerLike {
  unref(): void;
  on(event: 'error', listener: (error: unknown) => void): void;
}

/** Milliseconds a helper may take to start (tens measured) before the caller runs every part itself (a helper that fails to start says so at once). */
const START_LIMIT_MS = 20_000;
type WorkerThreadsModule = { Worker: new (source: string, options: { eval: true; workerData: unknown }) => WorkerLike };

let requestedThreads = 1;

/** How many threads the kernels may use (the wasm backend sets its own thread count; 1 by default). */
export function setKernelThreadCount(threads: number): void {
  requestedThreads = Math.max(1, Math.floor(threads));
}

export function kernelThreadCount(): number {
  return requestedThreads;
}

/** worker_threads where this is Node and the main thread may block on Atomics; undefined elsewhere. */
function workerThreads(): WorkerThreadsModule | undefined {
  const node = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  try {
    return node?.getBuiltinModule?.('node:worker_threads') as WorkerThreadsModule | undefined;
  } catch {
    return undefined;
  }
}

/** Runs every part on the calling thread (one thread, or helpers unavailable). */
function callerOnly(exports: readonly ((...args: number[]) => void)[]): KernelThreads {
  return {
    count: 1,
    run(parts) {
      for (const part of parts) for (const call of part) exports[call.fn]!(...call.args);
    },
  };
}

/**
 * The kernels' threads on `memory`: `threads - 1` helpers started now where `memory` is shared and
 * worker_threads exist; else the caller alone. `names` are the exported functions a call's index
 * refers to, `exports` the caller's own instances of them.
 */
export function startKernelThreads(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  names: readonly string[],
  exports: readonly ((...args: number[]) => void)[],
  threads = requestedThreads,
  startLimitMs = START_LIMIT_MS,
): KernelThreads {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const workers = shared && threads > 1 ? workerThreads() : undefined;
  if (!workers) return callerOnly(exports);
  const blocks: Int32Array[] = [];
  const messages: Uint8Array[] = [];
  try {
    for (let i = 1; i < threads; i++) {
      const control = new SharedArrayBuffer(4 * (FIRST_CALL + MAX_CALLS * SLOTS_PER_CALL) + MESSAGE_BYTES);
      const worker = new workers.Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, control, names } });
      // A helper waiting for work must not keep the process alive; one that fails to start is
      // seen as not started (below), not as an error thrown at the application.
      worker.unref();
      worker.on('error', () => undefined);
      blocks.push(new Int32Array(control, 0, FIRST_CALL + MAX_CALLS * SLOTS_PER_CALL));
      messages.push(new Uint8Array(control, 4 * (FIRST_CALL + MAX_CALLS * SLOTS_PER_CALL)));
    }
  } catch {
    return callerOnly(exports);
  }
  let started: boolean | undefined;
  /** Whether every helper has started: waited for on first use; if one has not, the caller runs every part from then on. */
  const helpersStarted = () => {
    if (started === undefined) {
      const deadline = Date.now() + startLimitMs;
      started = blocks.every((block) => {
        while (Atomics.load(block, STARTED) === 0) {
          const left = deadline - Date.now();
          if (left <= 0) return false;
          Atomics.wait(block, STARTED, 0, left);
        }
        return Atomics.load(block, STARTED) === 1;
      });
    }
    return started;
  };
  const alone = callerOnly(exports);
  return {
    count: threads,
    run(parts) {
      if (parts.length > threads) throw new RangeError(`${parts.length} parts for ${threads} threads`);
      if (parts.length > 1 && !helpersStarted()) return alone.run(parts);
      parts.slice(1).forEach((part, i) => {
        if (part.length > MAX_CALLS) throw new RangeError(`a part of ${part.length} calls; at most ${MAX_CALLS}`);
        const block = blocks[i]!;
        block[CALLS] = part.length;
        part.forEach((call, c) => {
          const at = FIRST_CALL + c * SLOTS_PER_CALL;
          block[at] = call.fn;
          call.args.forEach((arg, j) => (block[at + 1 + j] = arg));
        });
        Atomics.store(block, STATE, POSTED);
        Atomics.notify(block, STATE);
      });
      let failure: string | undefined;
      try {
        for (const call of parts[0] ?? []) exports[call.fn]!(...call.args);
      } finally {
        parts.slice(1).forEach((_, i) => {
          const block = blocks[i]!;
          while (Atomics.load(block, STATE) === POSTED) Atomics.wait(block, STATE, POSTED);
          if (Atomics.load(block, STATE) === FAILED) failure ??= new TextDecoder().decode(messages[i]!.slice()).replace(/\0+$/, '');
          Atomics.store(block, STATE, IDLE);
          Atomics.notify(block, STATE);
        });
      }
      if (failure !== undefined) throw new Error(`a keras-bridge kernel thread failed: ${failure}`);
    },
  };
}
