/**
 * One (model, Node backend) cell of `npm run bench`, in a child process of scripts/bench.ts, so
 * that a backend that hangs or runs out of memory costs only its cell, and each cell's peak RSS is
 * its own.
 *
 *   node dist/src/bench/bench-worker.js '{"backend":"wasm","modelDir":"...","customLayerModules":[],"batchSizes":[1,32],"repeats":10,"budgetS":60}'
 *
 * Loads the converted model as an app would (stock tf.loadLayersModel, keras-bridge's runtime and
 * the backend's kernel fixes registered) and times it (time-model.ts). Prints a line
 * `BATCH <json>` as each batch size is done (so that a crash on a larger batch, such as wasm
 * running out of its 4 GB, keeps the smaller ones), then one JSON line: WorkerResult.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { backendDetails, useBackend, type NodeBackendName } from '../backends/index.js';
import { loadCustomLayerModules } from '../cli/custom-layer-modules.js';
import { TRANSLATED_MODULE } from '../convert/translated-layers.js';
import { loadBundle } from '../keras/bundle.js';
import { bundleWeightTensors, loadNativeGraph, type NativeGraph } from '../native/native-graph.js';
import { loadConvertedModel } from '../tfjs-io/load-converted-model.js';
import { BATCH_LINE } from './bench-results.js';
import { timeModel, type AlternativeRuntime, type ModelTimings, type TimeModelOptions } from './time-model.js';

export interface WorkerRequest extends TimeModelOptions {
  backend: NodeBackendName;
  modelDir: string;
  /** --custom-layers modules the model was converted with (custom-layers.js in modelDir is loaded too). */
  customLayerModules: string[];
  /** Time the bundle's SavedModel as one native graph instead (backend tensorflow; docs/native-graph.md). */
  nativeGraphBundle?: string;
  /** The model dir was converted with --fold-batch-norm: time its forward pass only (docs/inference-rewrites.md). */
  inferenceOnly?: boolean;
}

export interface WorkerResult extends ModelTimings {
  loadMs: number;
  peakRssMb: number | null;
}

async function run(request: WorkerRequest): Promise<WorkerResult> {
  tf.enableProdMode();
  await useBackend(request.backend);
  const translated = path.join(request.modelDir, TRANSLATED_MODULE);
  await loadCustomLayerModules([...request.customLayerModules, ...(existsSync(translated) ? [translated] : [])]);
  const start = performance.now();
  const model = await loadConvertedModel(request.modelDir);
  const loadMs = performance.now() - start;
  // The native graph is fed what the converted model is (its inputs' shapes and dtypes).
  const graphBundle = request.nativeGraphBundle ? await loadBundle(request.nativeGraphBundle, { goldens: false }) : undefined;
  const graph = graphBundle ? await loadNativeGraph(graphBundle.dir, graphBundle.manifest) : undefined;
  // The gradients endpoint fed the bundle's weights and cotangents of ones: the gradients of
  // sum(outputs), as Keras's side computes them (it also returns the outputs and input gradients).
  const graphWeights = graphBundle && graph && !graph.gradientsUnavailable ? bundleWeightTensors(graphBundle) : [];
  const graphBackward: AlternativeRuntime['backward'] = !graph || graph.gradientsUnavailable
    ? { skipped: graph?.gradientsUnavailable ?? 'no native graph' }
    : (inputs) => {
        const cotangents = outputShapes(graph, inputs).map((shape) => tf.ones(shape));
        const { outputs, inputGradients, weightGradients } = graph.gradients(inputs, cotangents, graphWeights);
        const defined = (ts: Array<tf.Tensor | undefined>) => ts.filter((t): t is tf.Tensor => t !== undefined);
        return { read: defined(weightGradients), unread: [...cotangents, ...outputs, ...defined(inputGradients)] };
      };
  const label = graph ? `${request.backend} native graph` : request.inferenceOnly ? `${request.backend} batch norm folded` : request.backend;
  const inferenceOnly = request.inferenceOnly
    ? { forward: (inputs: tf.Tensor[]) => [model.predict(inputs.length === 1 ? inputs[0]! : inputs)].flat() as tf.Tensor[], backward: { skipped: 'folded for inference only: its gradients are not Keras\'s (docs/inference-rewrites.md)' } }
    : undefined;
  const timings = await timeModel(
    model,
    request,
    (line) => process.stderr.write(`  ${label} ${line}\n`),
    (batch, figures) => process.stdout.write(`${BATCH_LINE} ${JSON.stringify({ batch, figures })}\n`),
    graph ? { forward: (inputs) => graph.predict(inputs), backward: graphBackward } : inferenceOnly,
  );
  graph?.dispose();
  tf.dispose(graphWeights);
  model.dispose();
  const details = await backendDetails(request.backend);
  return { loadMs, ...timings, peakRssMb: process.resourceUsage().maxRSS / 1024, ...(details ? { details } : {}) };
}

const shapesByBatch = new Map<number, number[][]>();
/** The graph's output shapes for inputs of this batch size (found by a first forward pass; the warm-up run pays it). */
function outputShapes(graph: NativeGraph, inputs: tf.Tensor[]): number[][] {
  const batch = inputs[0]!.shape[0]!;
  if (!shapesByBatch.has(batch)) {
    const outputs = graph.predict(inputs);
    shapesByBatch.set(batch, outputs.map((o) => [...o.shape]));
    tf.dispose(outputs);
  }
  return shapesByBatch.get(batch)!;
}

run(JSON.parse(process.argv[2]!) as WorkerRequest).then(
  (result) => process.stdout.write(JSON.stringify(result) + '\n'),
  (error: unknown) => {
    process.stderr.write(`bench worker: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
