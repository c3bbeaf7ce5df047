import tf from '#tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { graphDefOf, type GraphDefSummary } from './graph-def.js';
import { traceTensorflowOps, TraceError } from './op-trace.js';
import { TRACED_TAGS, writeSavedModel } from './saved-model-file.js';
import { TENSORFLOW_VERSION } from './tensorflow-op-inputs.generated.js';

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
  /**
   * The largest of, per output, its largest |graph - op by op| over its largest |op by op| (outputs
   * that are all zeros op by op count in maxAbsoluteDifference only). Near 1 where an output is itself
   * rounding noise, such as the gradient of a convolution's bias under a batch normalization (zero in
   * exact arithmetic): the two runs round differently.
   */
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
  /** Write traced ops as the equivalent ones TensorFlow's optimizer fuses (node-rewrites.ts; default true). */
  rewrite?: boolean;
  /** Where to write the SavedModel while TensorFlow loads it (default: a new directory under the OS's temporary one, removed after). */
  tempDir?: string;
}

/** What keras-bridge calls of tfjs-node's backend to load and run a SavedModel's session by tensor names (no parse of the file in JavaScript). */
interface SavedModelBackend {
  loadSavedModelMetaGraph(path: string, tags: string): number;
  runSavedModel(id: number, inputs: tf.Tensor[], inputTensorInfos: Array<{ name: string; dtype: string; tfDtype: string }>, outputOpNames: string[]): tf.Tensor[];
  deleteSavedModel(id: number): void;
}

const TF_DTYPE_NAMES: Partial<Record<tf.DataType, string>> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' };

/**
 * Traces `run` on `exampleInputs` on the `tensorflow` backend (it must be active) and loads the
 * result as a native graph. Every op `run` dispatches must be a TensorFlow op; a kernel that
 * computes on the host from the inputs' values makes this throw TraceError, and the model then runs
 * op by op only. Constants are copied into the graph: the model's weights are held twice while
 * both live. Synchronous: TensorFlow loads the graph in this thread.
 */
export function traceNativeGraph(run: (inputs: readonly tf.Tensor[]) => tf.Tensor[], exampleInputs: readonly tf.Tensor[], options: TraceNativeGraphOptions = {}): TracedNativeGraph {
  const started = performance.now();
  const parameters = options.parameters ?? [];
  const { trace, outputs: reference } = traceTensorflowOps([...exampleInputs, ...parameters], () => run(exampleInputs));
  const backend = tf.backend() as unknown as SavedModelBackend;
  const { graph, names, summary } = graphDefOf(trace, { rewrite: options.rewrite });
  const traceMs = performance.now() - started;
  const loadStarted = performance.now();
  let id: number;
  const dir = options.tempDir ?? mkdtempSync(path.join(os.tmpdir(), 'keras-bridge-traced-'));
  try {
    writeSavedModel(dir, graph, names, trace.inputs, trace.outputs);
    id = backend.loadSavedModelMetaGraph(dir, TRACED_TAGS.join(','));
  } catch (error) {
    tf.dispose(reference);
    throw new TraceError(`TensorFlow could not load the traced graph (${summary.ops} ops): ${(error as Error).message}${versionHint(backend)}`);
  } finally {
    if (options.tempDir === undefined) rmSync(dir, { recursive: true, force: true });
  }
  const loadMs = performance.now() - loadStarted;
  const inputShapes = exampleInputs.map((x) => [...x.shape]);
  const inputDtypes = exampleInputs.map((x) => x.dtype);
  const fedInfos = [...exampleInputs, ...parameters].map((x, i) => ({ name: `${names.inputs[i]!}:0`, dtype: x.dtype, tfDtype: TF_DTYPE_NAMES[x.dtype] ?? x.dtype }));
  const outputNames = names.outputs.map((name) => `${name}:0`);
  let disposed = false;

  const execute = (inputs: readonly tf.Tensor[]): tf.Tensor[] => {
    if (disposed) throw new Error('the traced graph was disposed');
    if (inputs.length !== inputShapes.length) throw new Error(`the traced graph takes ${inputShapes.length} inputs, got ${inputs.length}`);
    inputs.forEach((x, i) => {
      if (x.dtype !== inputDtypes[i] || !sameShape(x.shape, inputShapes[i]!)) {
        throw new Error(`the traced graph's input ${i} is ${inputDtypes[i]} [${inputShapes[i]!.join(', ')}], got ${x.dtype} [${x.shape.join(', ')}]; trace another graph for these shapes`);
      }
    });
    return backend.runSavedModel(id, [...inputs, ...parameters], fedInfos, outputNames);
  };
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    backend.deleteSavedModel(id);
  };

  let differences: ReturnType<typeof compareOutputs>;
  try {
    const check = execute(exampleInputs);
    differences = compareOutputs(check, reference);
    tf.dispose(check);
  } catch (error) {
    dispose();
    throw error instanceof TraceError ? error : new TraceError(`TensorFlow loaded the traced graph (${summary.ops} ops) but could not run it: ${(error as Error).message}${versionHint(backend)}`);
  } finally {
    tf.dispose(reference);
  }
  return {
    execute,
    inputShapes,
    summary: { ...summary, tracedOps: trace.nodes.length, graphBytes: graph.byteLength, traceMs, loadMs, ...differences },
    dispose,
  };
}

/** traceNativeGraph of a tfjs LayersModel's predict (inference). */
export function traceModelNativeGraph(model: tf.LayersModel, exampleInputs: readonly tf.Tensor[], options: TraceNativeGraphOptions = {}): TracedNativeGraph {
  return traceNativeGraph(
    (inputs) => {
      const y = model.predict(inputs.length === 1 ? inputs[0]! : [...inputs]);
      return Array.isArray(y) ? y : [y];
    },
    exampleInputs,
    options,
  );
}

/** Where the binding's TensorFlow is not the one whose op registry the graph's attributes were filled in from, saying so. */
function versionHint(backend: unknown): string {
  const running = (backend as { binding?: { TF_Version?: string } }).binding?.TF_Version;
  return running && running !== TENSORFLOW_VERSION
    ? ` (the traced graph's attributes follow TensorFlow ${TENSORFLOW_VERSION}'s op registry; tfjs-node's binding runs TensorFlow ${running}: regenerate it with scripts/tensorflow_op_inputs.py against that version)`
    : '';
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
    // An output that is all zeros op by op (a bias gradient under a batch normalization) has no scale: its difference counts in the absolute figure only.
    if (scale > 0) maxScaledDifference = Math.max(maxScaledDifference, largest / scale);
  });
  return { maxAbsoluteDifference, maxScaledDifference };
}
