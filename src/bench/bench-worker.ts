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
import tf from '#tfjs';
import { backendDetails, useBackend, type NodeBackendName } from '../backends/index.js';
import { loadCustomLayerModules } from '../cli/custom-layer-modules.js';
import { TRANSLATED_MODULE } from '../convert/translated-layers.js';
import { loadBundle } from '../keras/bundle.js';
import { bundleWeightTensors, loadNativeGraph, type NativeGraph } from '../native/native-graph.js';
import { traceModelNativeGraph, traceNativeGraph, type TracedNativeGraph } from '../native/traced-graph/traced-native-graph.js';
import { loadConvertedModel } from '../tfjs-io/load-converted-model.js';
import { getOneMessage, sendMessage } from 'execa';
import { BATCH_LINE } from './bench-results.js';
import { partnerReference, type PartnerReply, type PartnerRequest } from './partner-reference.js';
import { passProductMacs } from './product-macs.js';
import { randomInputs, timeModel, type Alongside, type AlternativeRuntime, type ModelTimings, type TimeModelOptions } from './time-model.js';

export interface WorkerRequest extends TimeModelOptions {
  backend: NodeBackendName;
  modelDir: string;
  /** --custom-layers modules the model was converted with (custom-layers.js in modelDir is loaded too). */
  customLayerModules: string[];
  /** Time the bundle's SavedModel as one native graph instead (backend tensorflow; docs/native-graph.md). */
  nativeGraphBundle?: string;
  /** Time the converted model traced into one TensorFlow graph instead (backend tensorflow; docs/native-graph.md, "Traced"). */
  tracedGraph?: boolean;
  /** The model dir was converted with --fold-batch-norm: time its forward pass only (docs/inference-rewrites.md). */
  inferenceOnly?: boolean;
  /** Count the forward pass's product multiply-adds at each batch size timed (product-macs.ts): one profiled pass each, after the timings. */
  countProductMacs?: boolean;
  /**
   * Alternate each pass's runs with Keras's tf.function of the same pass (timing.ts,
   * timedAlternating), asking the bench's Keras partner through messages to the parent process
   * (keras-partner.ts; the worker then runs with execa's `ipc`).
   */
  alongsideKeras?: boolean;
}

export interface WorkerResult extends ModelTimings {
  loadMs: number;
  peakRssMb: number | null;
  forwardProductMacs?: Record<string, number>;
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
  const label = graph ? `${request.backend} native graph` : request.tracedGraph ? `${request.backend} traced graph` : request.inferenceOnly ? `${request.backend} batch norm folded` : request.backend;
  const inferenceOnly = request.inferenceOnly
    ? { forward: (inputs: tf.Tensor[]) => [model.predict(inputs.length === 1 ? inputs[0]! : inputs)].flat() as tf.Tensor[], backward: { skipped: 'folded for inference only: its gradients are not Keras\'s (docs/inference-rewrites.md)' } }
    : undefined;
  const log = (line: string) => process.stderr.write(`  ${label} ${line}\n`);
  const traced = request.tracedGraph ? tracedRuntime(model, log) : undefined;
  const alongside: Alongside | undefined = request.alongsideKeras ? (batch, pass) => partnerReference(askParent, batch, pass) : undefined;
  const timings = await timeModel(
    model,
    request,
    log,
    (batch, figures) => process.stdout.write(`${BATCH_LINE} ${JSON.stringify({ batch, figures })}\n`),
    graph ? { forward: (inputs) => graph.predict(inputs), backward: graphBackward } : (traced?.runtime ?? inferenceOnly),
    alongside,
  );
  const forwardProductMacs = request.countProductMacs ? await productMacsByBatch(model, timings, log) : undefined;
  graph?.dispose();
  traced?.dispose();
  tf.dispose(graphWeights);
  model.dispose();
  const details = await backendDetails(request.backend);
  return { loadMs, ...timings, peakRssMb: process.resourceUsage().maxRSS / 1024, ...(details ? { details } : {}), ...(forwardProductMacs ? { forwardProductMacs } : {}) };
}

/** A request to the bench's Keras partner, through the parent (one at a time: the timing awaits each). */
async function askParent(request: PartnerRequest): Promise<PartnerReply> {
  await sendMessage(request);
  return (await getOneMessage()) as PartnerReply;
}

/**
 * The product multiply-adds of one profiled predict at each batch size whose forward pass was timed
 * (a size that failed is not tried again); a count that fails is logged and left out, and the
 * cell's timings are kept.
 */
async function productMacsByBatch(model: tf.LayersModel, timings: ModelTimings, log: (line: string) => void): Promise<Record<string, number>> {
  const macs: Record<string, number> = {};
  for (const [batch, { forward }] of Object.entries(timings.batches)) {
    if (!('medianMs' in forward)) continue;
    const inputs = randomInputs(model, Number(batch));
    try {
      macs[batch] = (await passProductMacs(() => model.predict(inputs.length === 1 ? inputs[0]! : inputs))).total;
    } catch (error) {
      log(`batch ${batch}: products not counted: ${(error as Error)?.message ?? String(error)}`);
    } finally {
      tf.dispose(inputs);
    }
  }
  return macs;
}

/**
 * The converted model traced into TensorFlow graphs per batch size: its predict (weights as
 * constants), and the gradients of sum(outputs) w.r.t. every trainable weight with the weights fed
 * (what the default backward pass computes op by op). Trace and load times are logged, not timed.
 */
function tracedRuntime(model: tf.LayersModel, log: (line: string) => void): { runtime: AlternativeRuntime; dispose(): void } {
  let forwardGraph: TracedNativeGraph | undefined;
  let backwardGraph: TracedNativeGraph | undefined;
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const gradients = (inputs: readonly tf.Tensor[]): tf.Tensor[] => {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(inputs.length === 1 ? inputs[0]! : [...inputs], { training: false }) as tf.Tensor | tf.Tensor[];
      return tf.addN((Array.isArray(out) ? out : [out]).map((o) => tf.sum(o))) as tf.Scalar;
    }, trainable);
    return [value, ...trainable.map((w) => grads[w.name]!)];
  };
  const dispose = () => {
    forwardGraph?.dispose();
    backwardGraph?.dispose();
  };
  const describe = (what: string, g: TracedNativeGraph) =>
    log(`${what} traced: ${g.summary.ops} ops, ${(g.summary.graphBytes / 2 ** 20).toFixed(1)} MB, trace ${g.summary.traceMs.toFixed(0)} ms, load ${g.summary.loadMs.toFixed(0)} ms, largest difference from op by op ${g.summary.maxAbsoluteDifference.toExponential(2)} (${g.summary.maxScaledDifference.toExponential(2)} of the output's scale)`);
  return {
    runtime: {
      async prepare(inputs) {
        dispose();
        forwardGraph = traceModelNativeGraph(model, inputs);
        describe('forward', forwardGraph);
        backwardGraph = traceNativeGraph(gradients, inputs, { parameters: model.weights.map((w) => w.read()) });
        describe('forward+backward', backwardGraph);
      },
      forward: (inputs) => forwardGraph!.execute(inputs),
      backward: (inputs) => {
        const [value, ...grads] = backwardGraph!.execute(inputs);
        return { read: grads, unread: [value!] };
      },
    },
    dispose,
  };
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

run(JSON.parse(process.argv[2]!) as WorkerRequest)
  .then(
    (result) => process.stdout.write(JSON.stringify(result) + '\n'),
    (error: unknown) => {
      process.stderr.write(`bench worker: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  )
  // The channel to the parent (alongsideKeras) would keep the process alive.
  .finally(() => process.connected && process.disconnect());
