import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tfjsNode } from '../../backends/native-tensorflow.js';
import { graphDefOf, type GraphDefSummary } from './graph-def.js';
import { traceTensorflowOps, TraceError } from './op-trace.js';
import { TRACED_SIGNATURE, TRACED_TAGS, writeSavedModel } from './saved-model-file.js';

/** What tracing made, and how the graph's outputs compare with the op-by-op run they were traced from. */
export interface TracedGraphSummary extends GraphDefSummary {
  /** TensorFlow ops the traced run dispatched (including any whose results went unused). */
  tracedOps: number;
  /** Bytes of the saved_model.pb written and loaded (the constants, mostly the weights). */
  graphBytes: number;
  traceMs: number;
  loadMs: number;
  /** Largest |graph - op by op| over every output element, on the traced inputs. */
  maxAbsoluteDifference: number;
  /** The largest of, per output, its largest |graph - op by op| over its largest |op by op| (0 for an output of zeros that agrees). */
  maxScaledDifference: number;
}

/**
 * A function of tensors (a converted model's predict, or its gradients) traced into one TensorFlow
 * graph and run by TensorFlow's own runtime, as Keras's tf.function is, instead of op by op
 * (docs/native-graph.md, "Traced"). Fixed to the shapes and dtypes it was traced with, like a
 * tf.function's concrete function. Values fixed at trace time are the graph's constants (the
 * weights, unless passed as `parameters`, which are fed their current values on every run).
 */
export interface TracedNativeGraph {
  /** The traced function's outputs for `inputs` (shapes and dtypes as traced), computed in one graph. */
  execute(inputs: readonly tf.Tensor[]): tf.Tensor[];
  readonly inputShapes: ReadonlyArray<readonly number[]>;
  readonly summary: TracedGraphSummary;
  dispose(): void;
}

export { TraceError };

/** Options of traceNativeGraph. */
export interface TraceNativeGraphOptions {
  /**
   * Tensors `run` reads that are to stay inputs of the graph rather than become its constants: a
   * model's weights when they change (training) or when their gradients are computed. Fed with
   * their values at each execute() (a tf.Variable's current value).
   */
  parameters?: readonly tf.Tensor[];
  /** Where to write the SavedModel while TensorFlow loads it (default: a new directory under the OS's temporary one, removed after). */
  tempDir?: string;
}

/**
 * Traces `run` on `exampleInputs` on the `tensorflow` backend (it must be active) and loads the
 * result as a native graph. Every op `run` dispatches must be a TensorFlow op; a kernel that
 * computes on the host from the inputs' values makes this throw TraceError, and the model then runs
 * op by op only. Constants are copied into the graph: the model's weights are held twice while both live.
 */
export async function traceNativeGraph(run: (inputs: readonly tf.Tensor[]) => tf.Tensor[], exampleInputs: readonly tf.Tensor[], options: TraceNativeGraphOptions = {}): Promise<TracedNativeGraph> {
  const node = await tfjsNode();
  const started = performance.now();
  const parameters = options.parameters ?? [];
  const { trace, outputs: reference } = traceTensorflowOps([...exampleInputs, ...parameters], () => run(exampleInputs));
  const { graph, names, summary } = graphDefOf(trace);
  const traceMs = performance.now() - started;
  const dir = options.tempDir ?? (await mkdtemp(path.join(os.tmpdir(), 'keras-bridge-traced-')));
  const loadStarted = performance.now();
  let savedModel: Awaited<ReturnType<typeof node.node.loadSavedModel>>;
  try {
    await writeSavedModel(dir, graph, names, trace.inputs, trace.outputs);
    savedModel = await node.node.loadSavedModel(dir, TRACED_TAGS, TRACED_SIGNATURE);
  } catch (error) {
    tf.dispose(reference);
    throw new TraceError(`TensorFlow could not load the traced graph (${summary.ops} ops): ${(error as Error).message}`);
  } finally {
    if (options.tempDir === undefined) await rm(dir, { recursive: true, force: true });
  }
  const loadMs = performance.now() - loadStarted;
  const inputShapes = exampleInputs.map((x) => [...x.shape]);
  const inputDtypes = exampleInputs.map((x) => x.dtype);

  const execute = (inputs: readonly tf.Tensor[]): tf.Tensor[] => {
    if (inputs.length !== inputShapes.length) throw new Error(`the traced graph takes ${inputShapes.length} inputs, got ${inputs.length}`);
    inputs.forEach((x, i) => {
      if (x.dtype !== inputDtypes[i] || !sameShape(x.shape, inputShapes[i]!)) {
        throw new Error(`the traced graph's input ${i} is ${inputDtypes[i]} [${inputShapes[i]!.join(', ')}], got ${x.dtype} [${x.shape.join(', ')}]; trace another graph for these shapes`);
      }
    });
    const fed = [...inputs, ...parameters];
    const feeds: tf.NamedTensorMap = Object.fromEntries(names.inputs.map((name, i) => [name, fed[i]!]));
    const result = savedModel.predict(feeds);
    if (result instanceof tf.Tensor || Array.isArray(result)) throw new Error('the traced graph did not return named outputs');
    return names.outputs.map((name) => {
      const output = result[name];
      if (!output) throw new Error(`the traced graph returned no '${name}'`);
      return output;
    });
  };

  let differences: ReturnType<typeof compareOutputs>;
  try {
    const check = execute(exampleInputs);
    differences = compareOutputs(check, reference);
    tf.dispose(check);
  } catch (error) {
    savedModel.dispose();
    throw error instanceof TraceError ? error : new TraceError(`TensorFlow loaded the traced graph (${summary.ops} ops) but could not run it: ${(error as Error).message}`);
  } finally {
    tf.dispose(reference);
  }
  const graphBytes = graph.byteLength;
  return {
    execute,
    inputShapes,
    summary: { ...summary, tracedOps: trace.nodes.length, graphBytes, traceMs, loadMs, ...differences },
    dispose: () => savedModel.dispose(),
  };
}

/** traceNativeGraph of a tfjs LayersModel's predict (inference). */
export function traceModelNativeGraph(model: tf.LayersModel, exampleInputs: readonly tf.Tensor[], options: TraceNativeGraphOptions = {}): Promise<TracedNativeGraph> {
  return traceNativeGraph(
    (inputs) => {
      const y = model.predict(inputs.length === 1 ? inputs[0]! : [...inputs]);
      return Array.isArray(y) ? y : [y];
    },
    exampleInputs,
    options,
  );
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

function compareOutputs(graph: tf.Tensor[], reference: tf.Tensor[]): Pick<TracedGraphSummary, 'maxAbsoluteDifference' | 'maxScaledDifference'> {
  let maxAbsoluteDifference = 0;
  let maxScaledDifference = 0;
  graph.forEach((g, i) => {
    const r = reference[i]!;
    if (!sameShape(g.shape, r.shape)) throw new TraceError(`the traced graph's output ${i} has shape [${g.shape.join(', ')}], the op-by-op run's [${r.shape.join(', ')}]`);
    const a = g.dataSync();
    const b = r.dataSync();
    let largest = 0;
    let scale = 0;
    for (let k = 0; k < a.length; k++) {
      const x = Number(a[k]);
      const y = Number(b[k]);
      scale = Math.max(scale, Math.abs(y));
      if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
      // A NaN on one side only, or infinities that differ, count as an infinite difference.
      largest = Math.max(largest, Math.abs(x - y) || Number.POSITIVE_INFINITY);
    }
    maxAbsoluteDifference = Math.max(maxAbsoluteDifference, largest);
    if (largest > 0) maxScaledDifference = Math.max(maxScaledDifference, scale > 0 ? largest / scale : Number.POSITIVE_INFINITY);
  });
  return { maxAbsoluteDifference, maxScaledDifference };
}
