import type * as tf from '@tensorflow/tfjs';
import type { Bundle } from '../keras/bundle.js';
// Parity runs the converted model as an app does: with keras-bridge's runtime (its layer classes,
// its fixes to tfjs-layers, and the backward pass that releases as it goes), whoever imports this.
import '../runtime.js';
import { disposeModel } from './dispose-model.js';
import { parityModes } from './modes/index.js';
import { SharedResources } from './modes/shared-resources.js';
import { inferenceRewritesOf } from '../convert/inference-rewrites/rewrites-metadata.js';
import { rewrittenBundleView } from './rewritten-bundle.js';

/** Each registered mode's evaluation, by mode name (null: the bundle has nothing for that mode). */
export type BundleEvaluation = Record<string, unknown>;

/**
 * The one evaluation entry point: runs every registered parity mode on the converted model, on the
 * active tfjs backend, with the bundle's goldens. Node (check-parity.ts) and the browser page
 * (browser-session.ts, which imports this compiled module) call it unchanged; a page's result
 * crosses to Node through tensor-codec.ts. `loadModel` gives a fresh copy of the converted model:
 * one is shared by the modes, and a mode that trains takes its own. `onMode` hears each mode's name
 * as its evaluation starts (progress output).
 */
export async function evaluateBundle(loadModel: () => Promise<tf.LayersModel>, bundle: Bundle, onMode?: (mode: string) => void): Promise<BundleEvaluation> {
  const model = await loadModel();
  const evaluation: BundleEvaluation = {};
  const shared = new SharedResources();
  try {
    // A model converted with --fold-batch-norm says so in its model.json; compared as such.
    const view = rewrittenBundleView(bundle, inferenceRewritesOf(model));
    for (const mode of parityModes()) {
      onMode?.(mode.name);
      evaluation[mode.name] = await mode.evaluate({ model, loadModel, bundle: view, shared });
    }
  } finally {
    await shared.disposeAll();
    disposeModel(model);
  }
  return evaluation;
}
