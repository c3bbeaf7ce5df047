import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { tfjsNode } from '../backends/native-tensorflow.js';
import { InputError } from '../errors.js';
import type { BundleManifest } from '../keras/bundle-manifest.js';

/** A bundle's SavedModel (export --saved-model) running in TensorFlow's native runtime as one graph. */
export interface NativeGraph {
  /** The model's outputs for its inputs, both in the model's order (as predict() of the converted model). */
  predict(inputs: readonly tf.Tensor[]): tf.Tensor[];
  dispose(): void;
}

type SavedModelRecord = Extract<NonNullable<BundleManifest['saved_model']>, { status: 'exported' }>;

/**
 * Loads the SavedModel a bundle carries into TensorFlow's own runtime through tfjs-node
 * (`loadSavedModel`): the whole model runs as one graph, optimized by TensorFlow as Keras's
 * tf.function is, instead of op by op. For Node deployments of models with no TypeScript-only
 * layer; forward only (docs/native-graph.md). Needs the native `tensorflow` backend
 * (BackendUnavailableError otherwise); InputError when the bundle has no SavedModel.
 */
export async function loadNativeGraph(bundleDir: string, manifest: Pick<BundleManifest, 'saved_model'>): Promise<NativeGraph> {
  const record = savedModelOf(bundleDir, manifest);
  const node = await tfjsNode();
  const model = await node.node.loadSavedModel(path.join(bundleDir, record.dir), ['serve'], record.endpoint);
  return {
    predict(inputs) {
      if (inputs.length !== record.inputs.length) throw new Error(`the SavedModel takes ${record.inputs.length} inputs, got ${inputs.length}`);
      const named = Object.fromEntries(record.inputs.map((name, i) => [name, inputs[i]!]));
      const result = model.predict(named);
      const byName = result instanceof tf.Tensor || Array.isArray(result) ? undefined : result;
      if (!byName) throw new Error(`the SavedModel's endpoint '${record.endpoint}' did not return named outputs`);
      return record.outputs.map((name) => {
        const output = byName[name];
        if (!output) throw new Error(`the SavedModel's endpoint '${record.endpoint}' returned no '${name}' (it returned ${Object.keys(byName).join(', ')})`);
        return output;
      });
    },
    dispose: () => model.dispose(),
  };
}

function savedModelOf(bundleDir: string, manifest: Pick<BundleManifest, 'saved_model'>): SavedModelRecord {
  const record = manifest.saved_model;
  if (!record) throw new InputError(`${bundleDir}: the bundle has no SavedModel; export it with 'keras-bridge export --saved-model'.`);
  if (record.status === 'skipped') throw new InputError(`${bundleDir}: the bundle has no SavedModel: ${record.reason}.`);
  return record;
}
