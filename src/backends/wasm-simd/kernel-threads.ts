/**
 * Helper threads for keras-bridge's SIMD kernels: each instantiates the kernels' module on the same
 * shared WebAssembly.Memory (tfjs-backend-wasm's threaded build), so that a kernel's work, cut into
 * chunks, runs on the calling thread and the helpers at once, on tensors where the backend keeps
 * them. The caller writes the chunks (calls of exported functions: an index and i32 arguments) into
 * a shared block, wakes the helpers with Atomics, and every thread claims chunks from a shared
 * counter until none is left: a helper that is slow to wake (XNNPACK's own pool threads spin for
 * a while after each of its operations and take its core) takes fewer chunks or none, and the
 * caller never waits for one that has not begun (it withdraws the job instead). Kernels stay
 * synchronous, as tfjs's kernel functions must be.
 *
 * Node only (worker_threads, and Atomics.wait on the main thread, which a browser page forbids);
 * elsewhere, or with one thread, the caller runs every chunk itself.
 */

/** One call of an exported kernel function: its index in the module's function list and its i32 arguments. */
export interface KernelCall {
  fn: number;
  args: readonly number[];
}

/** The threads a kernel may cut its work for: the caller and `count - 1` helpers. */
export interface KernelThreads {
  readonly count: number;
  /**
   * Runs every chunk once, each on whichever thread claims it, its calls in order; returns when all
   * are done. Chunks must not depend on each other (disjoint outputs).
   */
  run(chunks: readonly (readonly KernelCall[])[]): void;
}

/** Most i32 arguments a kernel function takes. */
const ARGS = 12;
const SLOTS_PER_CALL = 1 + ARGS;
/** Calls and chunks one job may hold. */
const MAX_CALLS = 16384;
const MAX_CHUNKS = 1024;

/** Int32 slots of the shared block: the next chunk to claim, the chunk count, each chunk's first call (and the end), then the calls. */
const NEXT_CHUNK = 0;
const CHUNKS = 1;
const CHUNK_STARTS = 2;
const FIRST_CALL = CHUNK_STARTS + MAX_CHUNKS + 1;
const JOB_SLOTS = FIRST_CALL + MAX_CALLS * SLOTS_PER_CALL;
/** Per helper, after the job: its state and whether it started. */
const STATE = 0;
const STARTED = 1;
const HELPER_SLOTS = 2;
const MESSAGE_BYTES = 512;

/** A helper's states: waiting; a job posted; claimed by the helper; its chunks done; one of its calls threw. */
const IDLE = 0;
const POSTED = 1;
const RUNNING = 2;
const DONE = 3;
const FAILED = 4;

/**
 * The helper's loop, run by worker_threads from source (no file to find beside the bundle). It
 * reaches worker_threads without require or import, so that it runs as a script and as a module
 * (a parent started with --input-type=module passes that on to its workers).
 */
/**
 * How long the caller, its own chunks done, polls for a helper still running its last one before it
 * sleeps on the futex: a sleeping caller is woken tens of microseconds after the helper's notify,
 * each product at batch 1 pays that, and a helper's chunk ends within about this long (a product
 * is cut into 4 chunks a thread). The Transformer block at batch 1 on two threads, the bench's
 * alternating runs: forward 4.77-4.90 → 4.15-4.52 ms, forward+backward 14.5-15.6 → 14.3 ms.
 * (The helper sleeps between jobs: polling there took a core the caller's other kernels and the
 * garbage collector needed, and was slower.)
 */
const CALLER_SPIN_MS = 0.1;
const HELPER_SOURCE = `
const { workerData } = process.getBuiltinModule('node:worker_threads');
const { module, memory, control, names, index } = workerData;
const job = new Int32Array(control, 0, ${JOB_SLOTS});
const own = new Int32Array(control, ${4 * JOB_SLOTS} + index * ${4 * HELPER_SLOTS}, ${HELPER_SLOTS});
const message = new Uint8Array(control, ${4 * JOB_SLOTS} + workerData.helpers * ${4 * HELPER_SLOTS} + index * ${MESSAGE_BYTES}, ${MESSAGE_BYTES});
let fns;
try {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  fns = names.map((name) => exports[name]);
  Atomics.store(own, ${STARTED}, 1);
} catch {
  Atomics.store(own, ${STARTED}, -1);
}
Atomics.notify(own, ${STARTED});
for (; fns;) {
  // Asleep until a job is posted: through the last job's DONE, which the caller turns to IDLE
  // without waking the helper, and through a job withdrawn.
  for (let seen = Atomics.load(own, ${STATE}); seen !== ${POSTED}; seen = Atomics.load(own, ${STATE})) Atomics.wait(own, ${STATE}, seen);
  // The caller withdraws a job it finished alone: only a claimed job is run.
  if (Atomics.compareExchange(own, ${STATE}, ${POSTED}, ${RUNNING}) !== ${POSTED}) continue;
  let state = ${DONE};
  try {
    const chunks = job[${CHUNKS}];
    for (let chunk = Atomics.add(job, ${NEXT_CHUNK}, 1); chunk < chunks; chunk = Atomics.add(job, ${NEXT_CHUNK}, 1)) {
      for (let at = ${FIRST_CALL} + job[${CHUNK_STARTS} + chunk] * ${SLOTS_PER_CALL}, end = ${FIRST_CALL} + job[${CHUNK_STARTS} + chunk + 1] * ${SLOTS_PER_CALL}; at < end; at += ${SLOTS_PER_CALL}) {
        const fn = fns[job[at]];
        const args = [];
        for (let j = 1; j <= fn.length; j++) args.push(job[at + j]);
        fn(...args);
      }
    }
  } catch (error) {
    const text = new TextEncoder().encode(String((error && error.message) || error)).slice(0, ${MESSAGE_BYTES - 1});
    message.fill(0);
    message.set(text);
    state = ${FAILED};
  }
  Atomics.store(own, ${STATE}, state);
  Atomics.notify(own, ${STATE});
}
`;

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

/** Runs every chunk on the calling thread (one thread, or helpers unavailable). */
function callerOnly(exports: readonly ((...args: number[]) => void)[]): KernelThreads {
  return {
    count: 1,
    run(chunks) {
      for (const chunk of chunks) for (const call of chunk) exports[call.fn]!(...call.args);
    },
  };
}

/**
 * The kernels' threads on `memory`: `threads - 1` helpers started now where `memory` is shared and
 * worker_threads exist; else the caller alone. `names` are the exported functions a call's index
 * refers to, `exports` the caller's own instances of them. Helpers that have not started within
 * `startLimitMs` of the first job (or could not) leave every chunk to the caller from then on.
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
  const alone = callerOnly(exports);
  if (!workers) return alone;
  const helpers = threads - 1;
  const control = new SharedArrayBuffer(4 * (JOB_SLOTS + helpers * HELPER_SLOTS) + helpers * MESSAGE_BYTES);
  const job = new Int32Array(control, 0, JOB_SLOTS);
  const states = Array.from({ length: helpers }, (_, i) => new Int32Array(control, 4 * (JOB_SLOTS + i * HELPER_SLOTS), HELPER_SLOTS));
  const messages = Array.from({ length: helpers }, (_, i) => new Uint8Array(control, 4 * (JOB_SLOTS + helpers * HELPER_SLOTS) + i * MESSAGE_BYTES, MESSAGE_BYTES));
  try {
    for (let index = 0; index < helpers; index++) {
      const worker = new workers.Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, control, names, index, helpers } });
      // A helper waiting for work must not keep the process alive; one that fails to start is
      // seen as not started (below), not as an error thrown at the application.
      worker.unref();
      worker.on('error', () => undefined);
    }
  } catch {
    return alone;
  }
  let started: boolean | undefined;
  /** Whether every helper has started: waited for on first use. */
  const helpersStarted = () => {
    if (started === undefined) {
      const deadline = Date.now() + startLimitMs;
      started = states.every((own) => {
        while (Atomics.load(own, STARTED) === 0) {
          const left = deadline - Date.now();
          if (left <= 0) return false;
          Atomics.wait(own, STARTED, 0, left);
        }
        return Atomics.load(own, STARTED) === 1;
      });
    }
    return started;
  };
  return {
    count: threads,
    run(chunks) {
      if (chunks.length < 2 || !helpersStarted()) return alone.run(chunks);
      // A job holds at most MAX_CHUNKS chunks and MAX_CALLS calls: more run as successive jobs, and
      // a chunk too large for any job on the caller alone.
      let pending: (readonly KernelCall[])[] = [];
      let calls = 0;
      const flush = () => {
        if (pending.length > 0) runJob(pending);
        [pending, calls] = [[], 0];
      };
      for (const chunk of chunks) {
        if (chunk.length > MAX_CALLS) {
          flush();
          alone.run([chunk]);
          continue;
        }
        if (pending.length === MAX_CHUNKS || calls + chunk.length > MAX_CALLS) flush();
        pending.push(chunk);
        calls += chunk.length;
      }
      flush();
    },
  };

  /** One job: its chunks claimed by the caller and the helpers from the shared counter. */
  function runJob(chunks: readonly (readonly KernelCall[])[]): void {
    if (chunks.length === 1) return alone.run(chunks);
    let at = 0;
    chunks.forEach((chunk, c) => {
      job[CHUNK_STARTS + c] = at;
      for (const call of chunk) {
        const slot = FIRST_CALL + at * SLOTS_PER_CALL;
        job[slot] = call.fn;
        call.args.forEach((arg, j) => (job[slot + 1 + j] = arg));
        at++;
      }
    });
    job[CHUNK_STARTS + chunks.length] = at;
    job[CHUNKS] = chunks.length;
    Atomics.store(job, NEXT_CHUNK, 0);
    for (const own of states) {
      Atomics.store(own, STATE, POSTED);
      Atomics.notify(own, STATE);
    }
    let failure: string | undefined;
    try {
      for (let chunk = Atomics.add(job, NEXT_CHUNK, 1); chunk < chunks.length; chunk = Atomics.add(job, NEXT_CHUNK, 1)) {
        for (const call of chunks[chunk]!) exports[call.fn]!(...call.args);
      }
    } catch (error) {
      // No chunk is claimed after this one: the helpers finish theirs, then the error goes up.
      Atomics.store(job, NEXT_CHUNK, chunks.length);
      throw error;
    } finally {
      states.forEach((own, i) => {
        // A helper that has not claimed the job yet never will: withdrawn, not waited for.
        if (Atomics.compareExchange(own, STATE, POSTED, IDLE) === POSTED) return;
        const spinUntil = performance.now() + CALLER_SPIN_MS;
        while (Atomics.load(own, STATE) === RUNNING && performance.now() < spinUntil);
        while (Atomics.load(own, STATE) === RUNNING) Atomics.wait(own, STATE, RUNNING);
        if (Atomics.load(own, STATE) === FAILED) failure ??= new TextDecoder().decode(messages[i]!.slice()).replace(/\0+$/, '');
        // Not notified: the helper sleeps on until the next job's POSTED wakes it. A notify here
        // woke it only to sleep again, and cost the caller a futex wake in the kernel per job
        // (0.11 ms of the Transformer block's 4.2 ms forward pass at batch 1, 12 jobs).
        Atomics.store(own, STATE, IDLE);
      });
    }
    if (failure !== undefined) throw new Error(`a keras-bridge kernel thread failed: ${failure}`);
  }
}
