/**
 * One (model, backend) cell of `npm run bench`, in a child process of scripts/bench.ts, so that a
 * backend that hangs or runs out of memory costs only its cell, and each cell's peak RSS is its own.
 *
 *   node dist/src/bench/bench-worker.js '{"backend":"wasm","modelDir":"...","batchSizes":[1,32],"repeats":10,"budgetS":60}'
 *
 * Loads the converted model as an app would (stock tf.loadLayersModel, keras-bridge's runtime and
 * the backend's kernel fixes registered), then per batch size times predict (forward) and one
 * tf.variableGrads pass of sum(outputs) with respect to every trainable weight (forward + backward,
 * what scripts/bench_keras.py times for Keras), each result read back to the host. Prints one JSON
 * line: WorkerResult.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { useBackend, type NodeBackendName } from '../backends/index.js';
import { loadCustomLayerModules } from '../cli/custom-layer-modules.js';
import { TRANSLATED_MODULE } from '../convert/translated-layers.js';
import { loadConvertedModel } from '../tfjs-io/load-converted-model.js';
import { timed, type Timing } from './timing.js';

export interface WorkerRequest {
  backend: NodeBackendName;
  modelDir: string;
  /** --custom-layers modules the model was converted with (custom-layers.js in modelDir is loaded too). */
  customLayerModules: string[];
  batchSizes: number[];
  repeats: number;
  budgetS: number;
}

export interface WorkerResult {
  loadMs: number;
  batches: Record<string, { forward: Timing; backward: Timing }>;
  /** Tensors alive after every timed run, less those before: 0 when nothing leaks. */
  leakedTensors: number;
  peakRssMb: number;
}

async function readAll(out: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): Promise<void> {
  const tensors = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : Object.values(out);
  await Promise.all(tensors.map((t) => t.data()));
  tf.dispose(tensors);
}

function randomInputs(model: tf.LayersModel, batch: number): tf.Tensor[] {
  return model.inputs.map((input, i) => {
    const shape = [batch, ...input.shape.slice(1).map((d) => d ?? 1)];
    return input.dtype === 'int32' ? tf.randomUniform(shape, 0, 2, 'int32', i) : tf.randomNormal(shape, 0, 1, 'float32', i);
  });
}

async function run(request: WorkerRequest): Promise<WorkerResult> {
  tf.enableProdMode();
  await useBackend(request.backend);
  const translated = path.join(request.modelDir, TRANSLATED_MODULE);
  await loadCustomLayerModules([...request.customLayerModules, ...(existsSync(translated) ? [translated] : [])]);
  let start = performance.now();
  const model = await loadConvertedModel(request.modelDir);
  const loadMs = performance.now() - start;
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const before = tf.memory().numTensors;
  const batches: WorkerResult['batches'] = {};
  // One run's time at the smallest batch, to skip a larger one whose run alone would be over budget.
  let perSample: { forward?: number; backward?: number } = {};
  for (const batch of [...request.batchSizes].sort((a, b) => a - b)) {
    const inputs = randomInputs(model, batch);
    const args = inputs.length === 1 ? inputs[0]! : inputs;
    const cell = async (pass: 'forward' | 'backward', fn: () => Promise<void>): Promise<Timing> => {
      const estimateS = perSample[pass] !== undefined ? perSample[pass]! * batch : 0;
      if (estimateS > request.budgetS) return { skipped: `one run would take about ${estimateS.toFixed(0)} s (from the smaller batch), over the budget of ${request.budgetS} s` };
      start = performance.now();
      const timing = await timed(fn, request.repeats, request.budgetS);
      if ('runs' in timing && perSample[pass] === undefined) perSample[pass] = timing.medianMs / 1000 / batch;
      process.stderr.write(`  ${request.backend} batch ${batch} ${pass}: ${'runs' in timing ? `${timing.medianMs.toFixed(1)} ms (${timing.runs} runs, ${((performance.now() - start) / 1000).toFixed(0)} s)` : timing.skipped}\n`);
      return timing;
    };
    const forward = await cell('forward', () => readAll(model.predict(args) as tf.Tensor | tf.Tensor[]));
    const backward = await cell('backward', async () => {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(args, { training: false }) as tf.Tensor | tf.Tensor[];
        return tf.addN((Array.isArray(out) ? out : [out]).map((o) => tf.sum(o))) as tf.Scalar;
      }, weights);
      value.dispose();
      await readAll(grads);
    });
    batches[String(batch)] = { forward, backward };
    tf.dispose(inputs);
  }
  const leakedTensors = tf.memory().numTensors - before;
  perSample = {};
  model.dispose();
  return { loadMs, batches, leakedTensors, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

run(JSON.parse(process.argv[2]!) as WorkerRequest).then(
  (result) => process.stdout.write(JSON.stringify(result) + '\n'),
  (error: unknown) => {
    process.stderr.write(`bench worker: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
