import { productMultiplyAdd, type MultiplyAdd } from '../backends/wasm-simd/relaxed-simd.js';
import { Code, I32, V128, type ValueType, wasmModule } from '../backends/wasm-simd/wasm-binary.js';

/**
 * The most multiply-adds a second WebAssembly's 128-bit SIMD does on this machine: a loop of
 * independent multiply-adds on registers alone (no memory traffic), on `threads` threads at once,
 * each as keras-bridge's product tiles multiply and add (relaxed_madd where relaxed-simd.ts fused
 * it, else a multiply and an add). No product kernel can run faster; the bench sets the models'
 * products against it (product-macs.ts).
 */
export interface WasmFmaPeak {
  threads: number;
  multiplyAdd: MultiplyAdd;
  /** Billions of float32 multiply-adds a second, each thread's, measured while all ran. */
  perThreadGmacs: number[];
  totalGmacs: number;
}

/** Independent accumulators: enough to cover the multiply-add's latency on both of x64's FMA ports (4 cycles × 2), within the 15 vector registers V8 allocates. */
const ACCUMULATORS = 12;

/**
 * `peak(steps, at)`: `steps` rounds of ACCUMULATORS multiply-adds of 4 lanes, the factors read
 * once from `at` and the sums stored after it (so that the loop is not removed).
 */
export function peakModule(multiplyAdd: MultiplyAdd): Uint8Array<ArrayBuffer> {
  const [steps, at, a, b] = [0, 1, 2, 3];
  const accumulator = (i: number) => 4 + i;
  const code = new Code().get(at).v128Load(0).set(a).get(at).v128Load(16).set(b);
  for (let i = 0; i < ACCUMULATORS; i++) code.get(at).v128Load(32).set(accumulator(i));
  code.loop((step) => {
    for (let i = 0; i < ACCUMULATORS; i++) {
      if (multiplyAdd === 'fused') step.get(a).get(b).get(accumulator(i)).f32x4RelaxedMadd().set(accumulator(i));
      else step.get(a).get(b).f32x4Mul().get(accumulator(i)).f32x4Add().set(accumulator(i));
    }
    step.get(steps).i32(1).i32Sub().tee(steps).brIf(0);
  });
  for (let i = 0; i < ACCUMULATORS; i++) code.get(at).get(accumulator(i)).v128Store(48 + 16 * i);
  return wasmModule({ shared: false }, [{ name: 'peak', params: [I32, I32], locals: [V128, V128, ...Array.from({ length: ACCUMULATORS }, (): ValueType => V128)], body: code }]);
}

/** Multiply-adds of one call of `peak` with `steps` rounds. */
export const macsPerCall = (steps: number): number => steps * ACCUMULATORS * 4;

/**
 * One thread's loop, run by worker_threads from source: instantiate, run the loop until V8 has
 * compiled it with its optimizing tier (calls of about a millisecond for `warmupMs`), wait for
 * every thread at the barrier, then time calls for `seconds` and post the median rate.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const { bytes, barrier, threads, seconds, warmupMs, steps } = workerData;
const memory = new WebAssembly.Memory({ initial: 1 });
const peak = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.peak;
new Float32Array(memory.buffer).fill(1, 0, 12);
for (const end = performance.now() + warmupMs; performance.now() < end;) peak(steps, 0);
const gate = new Int32Array(barrier);
// Every thread times at once; one that never arrives (it failed) holds the others 10 s at most.
if (Atomics.add(gate, 0, 1) + 1 === threads) Atomics.notify(gate, 0);
for (const end = performance.now() + 10000; Atomics.load(gate, 0) < threads && performance.now() < end;) Atomics.wait(gate, 0, Atomics.load(gate, 0), 10);
const rates = [];
for (const end = performance.now() + seconds * 1000; performance.now() < end;) {
  const start = performance.now();
  peak(steps, 0);
  rates.push(${ACCUMULATORS * 4} * steps / ((performance.now() - start) / 1000) / 1e9);
}
rates.sort((x, y) => x - y);
parentPort.postMessage(rates[rates.length >> 1]);
`;

/**
 * Measures the peak on `threads` threads at once (Node's worker_threads), each timing for
 * `seconds` after `warmupMs` of warm-up. Undefined where worker_threads are not available.
 */
export async function measureWasmFmaPeak(threads: number, { seconds = 0.5, warmupMs = 300 } = {}): Promise<WasmFmaPeak | undefined> {
  const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const workers = node?.getBuiltinModule?.('node:worker_threads') as { Worker: new (source: string, options: { eval: true; workerData: unknown }) => WorkerHandle } | undefined;
  if (!workers) return undefined;
  // Decided (and V8's relaxed-SIMD flag set) before the threads compile the loop.
  const multiplyAdd = productMultiplyAdd();
  const bytes = peakModule(multiplyAdd);
  const barrier = new SharedArrayBuffer(4);
  // About a millisecond a call at tens of billions a second: short enough to time many, long enough that the clock's resolution does not matter.
  const steps = 1 << 18;
  const perThreadGmacs = await Promise.all(
    Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
      const worker = new workers.Worker(THREAD_SOURCE, { eval: true, workerData: { bytes, barrier, threads, seconds, warmupMs, steps } });
      worker.on('message', (rate: unknown) => resolve(Number(rate)));
      worker.on('error', reject);
    })),
  );
  return { threads, multiplyAdd, perThreadGmacs, totalGmacs: perThreadGmacs.reduce((a, b) => a + b, 0) };
}

interface WorkerHandle {
  on(event: 'message', listener: (value: unknown) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
