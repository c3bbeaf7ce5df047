import tf from '#tfjs';
import { errorMessage } from '../errors.js';
import { BackendUnavailableError } from './backend-unavailable-error.js';
import { requestedWasmThreads, WASM_THREADS_VARIABLE } from './wasm-threads/thread-count.js';
import { setKernelThreadCount } from './wasm-simd/kernel-threads.js';
import { invalidWasmFmaSetting, nodeEnvironment } from './wasm-simd/relaxed-simd.js';
import { createThreadedWasmModule, releaseIdleThreads } from './wasm-threads/threaded-module.js';
import { BUILT_POOL_SPIN, requestedPoolSpin } from './wasm-threads/pool-spin.js';
import { requestedWinogradScheme, winogradSchemes } from './kernel-fixes/winograd-conv2d.js';

/** How the `wasm` backend runs, once started: its XNNPACK threads and why not more. */
interface WasmThreading {
  threads: number;
  /** How many times XNNPACK's pool workers spin for work before they sleep: asked for, and as run. */
  poolSpin?: { requested: number; spins: number };
  /** Set when threads were asked for and the threaded build could not start. */
  fallbackReason?: string;
}

let registration: Promise<void> | undefined;
let threading: WasmThreading | undefined;

/**
 * Registers the `wasm` backend. In Node the package's main entry is its Node bundle, which finds
 * its .wasm files beside itself, so no setWasmPaths() is needed whatever the working directory.
 * With more than one thread requested (KERAS_BRIDGE_WASM_THREADS, default one per core), the
 * backend starts tfjs's threaded build instead of its single-threaded one, falling back to the
 * latter when this Node cannot run threads.
 */
export function registerWasm(): Promise<void> {
  registration ??= (async () => {
    const threads = requestedWasmThreads();
    const poolSpin = requestedPoolSpin();
    const invalidFma = invalidWasmFmaSetting();
    if (invalidFma) throw new BackendUnavailableError('wasm', invalidFma);
    const winograd = requestedWinogradScheme(nodeEnvironment());
    if ('invalid' in winograd) throw new BackendUnavailableError('wasm', winograd.invalid);
    winogradSchemes.forward = winograd;
    winogradSchemes.inputGradient = winograd;
    let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
    try {
      wasm = await import('@tensorflow/tfjs-backend-wasm');
    } catch (error) {
      throw new BackendUnavailableError('wasm', `loading @tensorflow/tfjs-backend-wasm failed: ${errorMessage(error)}`);
    }
    if (threads > 1) useThreadedBuild(wasm, threads, poolSpin);
    else threading = { threads: 1 };
  })();
  return registration;
}

/**
 * For reports: "2 XNNPACK threads", how long their workers spin for work where that is not as
 * built, and why only one thread when threads could not start.
 */
export function describeWasmThreading(): string | undefined {
  if (!threading) return undefined;
  const threads = `${threading.threads} XNNPACK thread${threading.threads === 1 ? '' : 's'}`;
  if (threading.fallbackReason) return `${threads} (threads could not start: ${threading.fallbackReason})`;
  const spin = threading.poolSpin;
  if (!spin || spin.requested === BUILT_POOL_SPIN) return threads;
  if (spin.spins === spin.requested) return `${threads} (idle workers spin ${spin.spins} times, not ${BUILT_POOL_SPIN})`;
  return `${threads} (idle workers spin ${BUILT_POOL_SPIN} times: ${spin.requested} was asked for, and this build's wait for work was not found)`;
}

function useThreadedBuild(wasm: typeof import('@tensorflow/tfjs-backend-wasm'), threads: number, poolSpin: number): void {
  const singleThreaded = tf.findBackendFactory('wasm');
  // Too late once tfjs has started the backend (an app that selected it before keras-bridge did).
  if (!singleThreaded || tf.findBackend('wasm')) return;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        const module = await createThreadedWasmModule(threads, poolSpin);
        wasm.setThreadsCount(threads);
        const backend = new wasm.BackendWasm(module as unknown as ConstructorParameters<typeof wasm.BackendWasm>[0]);
        releaseIdleThreads(module);
        threading = { threads: wasm.getThreadsCount(), ...(module.poolSpin ? { poolSpin: module.poolSpin } : {}) };
        // keras-bridge's own SIMD kernels cut their work for as many threads as XNNPACK has.
        setKernelThreadCount(threading.threads);
        return backend;
      } catch (error) {
        const fallbackReason = errorMessage(error);
        if (process.env[WASM_THREADS_VARIABLE]) process.stderr.write(`keras-bridge: wasm runs on one thread: ${fallbackReason}\n`);
        const backend = await singleThreaded();
        threading = { threads: 1, fallbackReason };
        return backend;
      }
    },
    2,
  );
}
