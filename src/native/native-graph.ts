import tf from '#tfjs';
import path from 'node:path';
import { tfjsNode } from '../backends/native-tensorflow.js';
import { InputError } from '../errors.js';
import { bundleWeight, type Bundle } from '../keras/bundle.js';
import type { BundleManifest } from '../keras/bundle-manifest.js';
import { goldenTensor } from '../parity/golden-tensor.js';

/** What the SavedModel's gradients endpoint computes in one graph (docs/native-graph.md, "Gradients"). */
export interface NativeGradients {
  /** The model's outputs, in its order. */
  outputs: tf.Tensor[];
  /** d loss / d input, by model input index; undefined for an integer or bool input. */
  inputGradients: Array<tf.Tensor | undefined>;
  /** d loss / d weight, by index into the manifest's `weights`; undefined for a non-trainable weight. */
  weightGradients: Array<tf.Tensor | undefined>;
}

/** A bundle's SavedModel (export --saved-model) running in TensorFlow's native runtime as one graph. */
export interface NativeGraph {
  /** The model's outputs for its inputs, both in the model's order (as predict() of the converted model). */
  predict(inputs: readonly tf.Tensor[]): tf.Tensor[];
  /** Null when gradients() runs; otherwise why it cannot (a bundle exported before it, or a model it could not trace). */
  readonly gradientsUnavailable: string | null;
  /**
   * The outputs at inference and the gradients of loss = sum over float outputs i of
   * sum(outputs[i] * cotangents[i]) (the goldens' loss), computed with `weights`: one tensor per entry
   * of the manifest's `weights`, in its order (bundleWeightTensors gives the bundle's own). A
   * cotangent per model output; an integer output's is ignored. Throws when gradientsUnavailable.
   */
  gradients(inputs: readonly tf.Tensor[], cotangents: readonly tf.Tensor[], weights: readonly tf.Tensor[]): NativeGradients;
  dispose(): void;
}

type SavedModelRecord = Extract<NonNullable<BundleManifest['saved_model']>, { status: 'exported' }>;
type TfjsSavedModel = Awaited<ReturnType<Awaited<ReturnType<typeof tfjsNode>>['node']['loadSavedModel']>>;

/**
 * Loads the SavedModel a bundle carries into TensorFlow's own runtime through tfjs-node
 * (`loadSavedModel`): the whole model runs as one graph, optimized by TensorFlow as Keras's
 * tf.function is, instead of op by op. For Node deployments of models with no TypeScript-only
 * layer (docs/native-graph.md): forward, and gradients where the bundle's SavedModel has its
 * gradients endpoint. Needs the native `tensorflow` backend
 * (BackendUnavailableError otherwise); InputError when the bundle has no SavedModel.
 */
/** Which of the SavedModel's endpoints to load: each costs a parse of saved_model.pb in tfjs-node (ResNet50's: about 1 s). */
export interface NativeGraphEndpoints {
  /** predict() (default: true). */
  serve?: boolean;
  /** gradients() (default: true, where the bundle's SavedModel has the endpoint). */
  gradients?: boolean;
}

export async function loadNativeGraph(bundleDir: string, manifest: Pick<BundleManifest, 'saved_model'>, endpoints: NativeGraphEndpoints = {}): Promise<NativeGraph> {
  const record = savedModelOf(bundleDir, manifest);
  const node = await tfjsNode();
  const dir = path.join(bundleDir, record.dir);
  const gradientsRecord = record.gradients;
  const gradientsUnavailable = !gradientsRecord
    ? `the bundle's SavedModel has no gradients endpoint (exported before keras-bridge wrote one); export it again with --saved-model`
    : gradientsRecord.status === 'skipped'
      ? `the bundle's SavedModel has no gradients endpoint: ${gradientsRecord.reason}`
      : endpoints.gradients === false
        ? 'loaded without its gradients endpoint (loadNativeGraph(..., { gradients: false }))'
        : null;
  const model = endpoints.serve === false ? undefined : await node.node.loadSavedModel(dir, ['serve'], record.endpoint);
  // tfjs-node shares one session among the signatures of a SavedModel it has loaded.
  const gradientsModel = gradientsRecord?.status === 'exported' && endpoints.gradients !== false ? await node.node.loadSavedModel(dir, ['serve'], gradientsRecord.endpoint) : undefined;
  return {
    predict(inputs) {
      if (!model) throw new Error('loaded without its serve endpoint (loadNativeGraph(..., { serve: false }))');
      if (inputs.length !== record.inputs.length) throw new Error(`the SavedModel takes ${record.inputs.length} inputs, got ${inputs.length}`);
      const byName = run(model, record.endpoint, Object.fromEntries(record.inputs.map((name, i) => [name, inputs[i]!])));
      return record.outputs.map((name) => output(byName, record.endpoint, name));
    },
    gradientsUnavailable,
    gradients(inputs, cotangents, weights) {
      if (!gradientsModel || gradientsRecord?.status !== 'exported') throw new Error(gradientsUnavailable ?? 'no gradients endpoint');
      const g = gradientsRecord;
      if (inputs.length !== record.inputs.length) throw new Error(`the SavedModel takes ${record.inputs.length} inputs, got ${inputs.length}`);
      if (cotangents.length !== record.outputs.length) throw new Error(`the SavedModel takes a cotangent per output (${record.outputs.length}), got ${cotangents.length}`);
      if (weights.length !== g.weights.length) throw new Error(`the SavedModel's gradients endpoint takes ${g.weights.length} weights (the manifest's), got ${weights.length}`);
      const feeds: tf.NamedTensorMap = {};
      record.inputs.forEach((name, i) => (feeds[name] = inputs[i]!));
      for (const c of g.cotangents) feeds[c.name] = cotangents[c.output]!;
      g.weights.forEach((name, k) => (feeds[name] = weights[k]!));
      const byName = run(gradientsModel, g.endpoint, feeds);
      const inputGradients: Array<tf.Tensor | undefined> = record.inputs.map(() => undefined);
      const weightGradients: Array<tf.Tensor | undefined> = g.weights.map(() => undefined);
      for (const { input, name } of g.grad_inputs) inputGradients[input] = output(byName, g.endpoint, name);
      for (const { weight, name } of g.grad_weights) weightGradients[weight] = output(byName, g.endpoint, name);
      return { outputs: record.outputs.map((name) => output(byName, g.endpoint, name)), inputGradients, weightGradients };
    },
    dispose: () => {
      gradientsModel?.dispose();
      model?.dispose();
    },
  };
}

/** The bundle's weights as tensors, in the manifest's order: what gradients() takes to compute the bundle's own gradients. */
export function bundleWeightTensors(bundle: Bundle): tf.Tensor[] {
  return bundle.manifest.weights.map((weight) => goldenTensor(bundleWeight(bundle, weight)));
}

function run(model: TfjsSavedModel, endpoint: string, feeds: tf.NamedTensorMap): tf.NamedTensorMap {
  const result = model.predict(feeds);
  if (result instanceof tf.Tensor || Array.isArray(result)) throw new Error(`the SavedModel's endpoint '${endpoint}' did not return named outputs`);
  return result;
}

function output(byName: tf.NamedTensorMap, endpoint: string, name: string): tf.Tensor {
  const found = byName[name];
  if (!found) throw new Error(`the SavedModel's endpoint '${endpoint}' returned no '${name}' (it returned ${Object.keys(byName).join(', ')})`);
  return found;
}

function savedModelOf(bundleDir: string, manifest: Pick<BundleManifest, 'saved_model'>): SavedModelRecord {
  const record = manifest.saved_model;
  if (!record) throw new InputError(`${bundleDir}: the bundle has no SavedModel; export it with 'keras-bridge export --saved-model'.`);
  if (record.status === 'skipped') throw new InputError(`${bundleDir}: the bundle has no SavedModel: ${record.reason}.`);
  return record;
}
