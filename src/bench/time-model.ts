import tf from '#tfjs';
import { WasmHeapExhaustedError } from '../backends/wasm-heap-guard.js';
import { withReadValues } from '../backends/released-reads.js';
import { ReferenceCannotRun, timed, timedAlternating, type AlternatingReference, type Timing } from './timing.js';
import { PASS_PENDING } from './bench-results.js';

/** What one backend times, in Node (bench-worker.ts) or in a Chromium page (page-bench-task.ts). */
export interface TimeModelOptions {
  batchSizes: number[];
  repeats: number;
  budgetS: number;
  /** Seconds of warm-up runs before each timing (timing.ts, warmUp); DEFAULT_WARMUP_S when absent. */
  warmupS?: number;
  /** Seconds a timing's runs last at least (timing.ts, timedRunCount); DEFAULT_MIN_TIME_S when absent. */
  minTimeS?: number;
}

/** One batch size's figures: each pass, and Keras's tf.function timed in alternation with it where it was (timedAlternating). */
export interface BatchTimings {
  forward: Timing;
  backward: Timing;
  /** Keras's tf.function of the same pass, its runs alternated with this cell's; absent where the cell was timed alone. */
  kerasAlongside?: { forward?: Timing; backward?: Timing };
}

/** The reference a pass alternates with at a batch size, or undefined to time it alone. */
export type Alongside = (batch: number, pass: 'forward' | 'backward') => AlternatingReference | undefined;

export interface ModelTimings {
  batches: Record<string, BatchTimings>;
  /** Tensors alive after every timed run, less those before: 0 when nothing leaks. */
  leakedTensors: number;
}

// Every result is read back and then dropped, as Keras's `.numpy()` arrays are by the Python loop:
// withReadValues frees them then, as Python's reference counts do (docs/performance.md).
async function readAll(out: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): Promise<void> {
  const tensors = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : Object.values(out);
  await withReadValues(tensors, () => undefined);
  tf.dispose(tensors);
}

/** Seeded inputs of the model's shapes (unknown dimensions 1) at `batch`. */
export function randomInputs(model: tf.LayersModel, batch: number): tf.Tensor[] {
  return model.inputs.map((input, i) => {
    const shape = [batch, ...input.shape.slice(1).map((d) => d ?? 1)];
    return input.dtype === 'int32' ? tf.randomUniform(shape, 0, 2, 'int32', i) : tf.randomNormal(shape, 0, 1, 'float32', i);
  });
}

/**
 * Per batch size (smallest first), times predict (forward) and one tf.variableGrads pass of
 * sum(outputs) with respect to every trainable weight (forward + backward, what
 * scripts/bench_keras.py times for Keras), each result read back to the host. A batch whose one
 * run the smaller batch says would be over the budget is not run, and says so.
 */
/**
 * Another way of running the model than its own predict and variableGrads: the native graph
 * (docs/native-graph.md), which computes forward only (`backward` then says why not).
 */
export interface AlternativeRuntime {
  /** Called once per batch size before its timings, with the inputs they run on (a traced graph traces there). */
  prepare?(inputs: tf.Tensor[]): Promise<void>;
  forward(inputs: tf.Tensor[]): tf.Tensor[];
  /** The gradients of sum(outputs) w.r.t. every trainable weight (what is read back), and whatever else it made (disposed unread); or why it has none. */
  backward: ((inputs: tf.Tensor[]) => { read: tf.Tensor[]; unread: tf.Tensor[] }) | { skipped: string };
}

export async function timeModel(
  model: tf.LayersModel,
  options: TimeModelOptions,
  log: (line: string) => void = () => {},
  onBatch: (batch: string, timings: ModelTimings['batches'][string]) => void = () => {},
  runtime?: AlternativeRuntime,
  alongside?: Alongside,
): Promise<ModelTimings> {
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const before = tf.memory().numTensors;
  const batches: ModelTimings['batches'] = {};
  const perSampleS: { forward?: number; backward?: number } = {};
  // A run that throws (wasm aborts when its memory runs out) ends the timing: the backend may be unusable after it.
  let failure: string | undefined;
  for (const batch of [...options.batchSizes].sort((a, b) => a - b)) {
    const inputs = randomInputs(model, batch);
    const args = inputs.length === 1 ? inputs[0]! : inputs;
    const kerasAlongside: NonNullable<BatchTimings['kerasAlongside']> = {};
    const cell = async (pass: 'forward' | 'backward', fn: () => Promise<void>): Promise<Timing> => {
      const estimateS = (perSampleS[pass] ?? 0) * batch;
      if (failure) return { skipped: `not run: ${failure}` };
      if (estimateS > options.budgetS) return { skipped: `one run would take about ${estimateS.toFixed(0)} s (from the smaller batch), over the budget of ${options.budgetS} s` };
      const start = performance.now();
      let timing: Timing;
      try {
        timing = await timedWithReference(fn, alongside?.(batch, pass), options, (keras) => (kerasAlongside[pass] = keras), (why) => log(`batch ${batch} ${pass}: timed alone: ${why}`));
      } catch (error) {
        failure = `batch ${batch} ${pass} failed: ${describeFailure(error)}`;
        log(failure);
        return { skipped: failure };
      }
      if ('runs' in timing && perSampleS[pass] === undefined) perSampleS[pass] = timing.medianMs / 1000 / batch;
      const keras = kerasAlongside[pass];
      const against = keras && 'medianMs' in keras && 'medianMs' in timing ? `, Keras alongside ${keras.medianMs.toFixed(1)} ms (${keras.runs} runs): ${(timing.medianMs / keras.medianMs).toFixed(2)}x` : '';
      log(`batch ${batch} ${pass}: ${'runs' in timing ? `${timing.medianMs.toFixed(1)} ms (${timing.runs} runs, ${((performance.now() - start) / 1000).toFixed(0)} s)${against}` : timing.skipped}`);
      return timing;
    };
    if (runtime?.prepare && !failure) {
      try {
        await runtime.prepare(inputs);
      } catch (error) {
        failure = `batch ${batch}: ${describeFailure(error)}`;
        log(failure);
      }
    }
    const forward = await cell('forward', () => readAll(runtime ? runtime.forward(inputs) : (model.predict(args) as tf.Tensor | tf.Tensor[])));
    // Reported now too, so that a backward pass that outlasts the worker's time keeps the forward figure.
    onBatch(String(batch), { forward, backward: { skipped: PASS_PENDING }, ...(kerasAlongside.forward ? { kerasAlongside: { forward: kerasAlongside.forward } } : {}) });
    const alternativeBackward = runtime?.backward;
    const backward: Timing = alternativeBackward
      ? typeof alternativeBackward === 'function'
        ? await cell('backward', async () => {
            const { read, unread } = alternativeBackward(inputs);
            tf.dispose(unread);
            await readAll(read);
          })
        : alternativeBackward
      : await cell('backward', async () => {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(args, { training: false }) as tf.Tensor | tf.Tensor[];
        return tf.addN((Array.isArray(out) ? out : [out]).map((o) => tf.sum(o))) as tf.Scalar;
      }, weights);
      value.dispose();
      await readAll(grads);
    });
    const figures: BatchTimings = { forward, backward, ...(Object.keys(kerasAlongside).length > 0 ? { kerasAlongside } : {}) };
    batches[String(batch)] = figures;
    onBatch(String(batch), figures);
    try {
      tf.dispose(inputs);
    } catch {
      // A backend that failed above may fail to free too; the failure is already reported.
    }
  }
  return { batches, leakedTensors: tf.memory().numTensors - before };
}

/**
 * A pass's timing, alternated with the reference where there is one (its figures to `keep`); where
 * Keras cannot run the pass (or its process fails), the pass is timed alone and `alone` says why.
 */
async function timedWithReference(fn: () => Promise<void>, reference: AlternatingReference | undefined, options: TimeModelOptions, keep: (keras: Timing) => void, alone: (why: string) => void): Promise<Timing> {
  if (reference) {
    try {
      const { ours, reference: keras } = await timedAlternating(fn, reference, options.repeats, options.budgetS, options.warmupS, options.minTimeS);
      keep(keras);
      return ours;
    } catch (error) {
      if (!(error instanceof ReferenceCannotRun)) throw error;
      keep({ skipped: error.message });
      alone(error.message);
    }
  }
  return timed(fn, options.repeats, options.budgetS, options.warmupS, options.minTimeS);
}

/** The error's message, and on wasm what an abort usually means. */
function describeFailure(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // WasmHeapExhaustedError says so itself; a trap in wasm's own C++ allocations does not.
  const outOfWasmMemory = tf.getBackend() === 'wasm' && !(error instanceof WasmHeapExhaustedError) && /Aborted\(\)|memory access out of bounds|out of memory/i.test(message);
  return outOfWasmMemory ? `${message} (how wasm's memory, 4 GB at most, running out shows)` : message;
}
