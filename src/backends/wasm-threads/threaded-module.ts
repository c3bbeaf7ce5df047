import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../errors.js';
import { BUILT_POOL_SPIN, withPoolSpin } from './pool-spin.js';

const require = createRequire(import.meta.url);

/** What keras-bridge touches of the Emscripten module behind tfjs-backend-wasm's threaded build. */
export interface ThreadedWasmModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => number;
  wasmMemory: WebAssembly.Memory;
  PThread: { unusedWorkers: ThreadWorker[]; runningWorkers: ThreadWorker[]; terminateAllThreads(): void };
  tfjs?: Record<string, (...args: number[]) => number>;
  /** How many times the pool's workers spin for work before they sleep (pool-spin.ts): asked for, and as run. */
  poolSpin?: { requested: number; spins: number };
  [heap: string]: unknown;
}

interface ThreadWorker {
  unref(): void;
  terminate(): Promise<number>;
}

type ThreadedFactory = (config: Record<string, unknown>) => Promise<ThreadedWasmModule>;

const HEAP_VIEWS = {
  HEAP8: Int8Array,
  HEAPU8: Uint8Array,
  HEAP16: Int16Array,
  HEAPU16: Uint16Array,
  HEAP32: Int32Array,
  HEAPU32: Uint32Array,
  HEAPF32: Float32Array,
  HEAPF64: Float64Array,
} as const;

/**
 * tfjs-backend-wasm's threaded SIMD build (XNNPACK with a pthreadpool), started in Node, which
 * tfjs 4.22 refuses to do (docs/backends.md, "wasm threads"). Returns the module BackendWasm
 * expects, its thread pool started with `threads` threads whose workers spin `poolSpin` times for
 * work before they sleep (where the build is the one pool-spin.ts knows; as built elsewhere); rejects
 * when this Node cannot run it.
 */
export async function createThreadedWasmModule(threads: number, poolSpin = BUILT_POOL_SPIN): Promise<ThreadedWasmModule> {
  const factoryPath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const wasmPath = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm');
  const workerPath = fileURLToPath(new URL('./pthread-worker.js', import.meta.url));
  const factory = require(factoryPath) as ThreadedFactory;
  const wasmBinary = poolSpin === BUILT_POOL_SPIN ? undefined : withPoolSpin(readFileSync(wasmPath), poolSpin);
  let abortMessage: string | undefined;
  const listenersBefore = processListeners();
  const module = await withLogicalCores(2 * threads, () =>
    withinStartLimit(withThreadWorkerClass(() => factory({
      // The pool's threads receive the module compiled from these bytes, not the file's.
      ...(wasmBinary ? { wasmBinary } : {}),
      // Emscripten asks for its thread script and its .wasm by name; both are files here.
      locateFile: (name: string) => (name.endsWith('.worker.js') ? workerPath : name.endsWith('.wasm') ? wasmPath : path.join(path.dirname(factoryPath), name)),
      // What each thread evaluates to get the module factory (tfjs passes a Blob, which Node cannot import).
      mainScriptUrlOrBlob: factoryPath,
      onAbort: (message: string) => {
        abortMessage = String(message);
      },
    }))),
  )
    .catch((error: unknown) => {
      throw new Error(`tfjs-backend-wasm's threaded build did not start: ${abortMessage ?? errorMessage(error)}`);
    })
    .finally(() => removeListenersAddedSince(listenersBefore));
  keepHeapViewsCurrent(module);
  module.poolSpin = { requested: poolSpin, spins: wasmBinary ? poolSpin : BUILT_POOL_SPIN };
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/**
 * After BackendWasm has started the thread pool: the pool's threads wait for work for the life of
 * the process, and must not keep it alive (Emscripten refs a Worker while it runs a thread); the
 * workers Emscripten started ahead and the pool did not take are ended (each is a V8 isolate).
 */
export function releaseIdleThreads(module: ThreadedWasmModule): void {
  for (const worker of module.PThread.runningWorkers) worker.unref();
  for (const worker of module.PThread.unusedWorkers.splice(0)) void worker.terminate();
}

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
const PROCESS_EVENTS: ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];

// Typed loosely: Node's typings overload listeners() per event name, not for a union of them.
const emitter = process as unknown as { listeners(event: string): Array<(...args: unknown[]) => void>; removeListener(event: string, listener: (...args: unknown[]) => void): void };

function processListeners(): Map<ProcessEvent, Set<unknown>> {
  return new Map(PROCESS_EVENTS.map((event) => [event, new Set<unknown>(emitter.listeners(event))]));
}

/**
 * Emscripten's Node start-up installs process handlers that rethrow any uncaught error and turn an
 * unhandled rejection into a crash that prints a line of its minified source; they are not the
 * module's to install in an application's process, so they go.
 */
function removeListenersAddedSince(before: Map<ProcessEvent, Set<unknown>>): void {
  for (const event of PROCESS_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener);
    }
  }
}

/** Seconds the threaded build may take to start (0.2-0.5 s measured) before the single-threaded one is used. */
const START_LIMIT_S = 60;

function withinStartLimit<T>(starting: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`its threads did not start within ${START_LIMIT_S} s`)), START_LIMIT_S * 1000);
    timer.unref();
  });
  return Promise.race([starting, limit]).finally(() => clearTimeout(timer));
}

/**
 * The workers Emscripten starts for its threads, with no Node flags: they inherit the process's by
 * default, and some that a process may run with (--input-type, --eval) make a worker fail to start.
 */
class ThreadWorkerClass extends Worker {
  constructor(filename: string, options: ConstructorParameters<typeof Worker>[1] = {}) {
    super(filename, { ...options, execArgv: [] });
  }
}

/**
 * Runs the factory's synchronous start (where Emscripten sets global.Worker to worker_threads'
 * Worker and starts its workers) with ThreadWorkerClass in its place; puts back what was there.
 */
function withThreadWorkerClass<T>(start: () => T): T {
  const previous = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => ThreadWorkerClass, set: () => undefined });
  try {
    return start();
  } finally {
    if (previous) Object.defineProperty(globalThis, 'Worker', previous);
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
}

/**
 * tfjs's C++ caps its pool at half of emscripten_num_logical_cores() (it assumes two hardware
 * threads per core), read once while the module starts; in Node that is os.cpus().length. Here it
 * reads `count` for that moment only, so that the pool gets the threads asked for.
 */
async function withLogicalCores<T>(count: number, start: () => Promise<T>): Promise<T> {
  const cpus = os.cpus;
  const first = cpus()[0];
  os.cpus = () => Array.from({ length: count }, () => first!);
  try {
    return await start();
  } finally {
    os.cpus = cpus;
  }
}

/**
 * Emscripten refreshes Module.HEAP* when the main thread grows the memory; a thread that grows it
 * would leave them short (a shared buffer keeps its length). These accessors rebuild a view
 * whenever the memory's buffer has changed, so tfjs never reads a stale one.
 */
function keepHeapViewsCurrent(module: ThreadedWasmModule): void {
  for (const [name, View] of Object.entries(HEAP_VIEWS)) {
    let view = new View(module.wasmMemory.buffer);
    Object.defineProperty(module, name, {
      configurable: true,
      enumerable: true,
      get: () => (view.buffer === module.wasmMemory.buffer ? view : (view = new View(module.wasmMemory.buffer))),
      // Emscripten assigns fresh views after it grows the memory.
      set: (fresh: InstanceType<typeof View>) => {
        view = fresh;
      },
    });
  }
}
