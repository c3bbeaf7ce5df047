import type { InferenceRewrite } from '../convert/inference-rewrites/fold-batch-norm.js';
import type { Bundle } from '../keras/bundle.js';
import type { BundleManifest, GoldenTensorRecord } from '../keras/bundle-manifest.js';
import type { KerasObject } from '../keras/keras-object.js';

/** Why training mode is not compared for a model converted with inference rewrites. */
export const REWRITTEN_FOR_INFERENCE =
  'the model was converted with --fold-batch-norm: its BatchNormalizations are folded into the layers before them, which computes what Keras does at inference only';

/** Goldens renamed to the layer that absorbed theirs: the Keras layer they are of, for reports. */
const absorbedGoldens = new WeakMap<GoldenTensorRecord, string>();

/** The Keras layer a renamed golden is of ("conv1_relu" for conv1_conv's), or undefined for the bundle's own. */
export function absorbedLayerOf(golden: GoldenTensorRecord): string | undefined {
  return absorbedGoldens.get(golden);
}

/**
 * The bundle as a model converted with inference rewrites (convert --fold-batch-norm) is checked
 * against it. A layer that absorbed others (a convolution with its BatchNormalization and ReLU)
 * now outputs what the last of them did in Keras: that layer's goldens (output, dL/dy) are
 * renamed to it, and Keras's graph reads it where it read the removed layers, so that layer-alone
 * modes feed it and what follows it Keras's own tensors. The removed layers' goldens, and the
 * gradients of the weights the rewrites changed, have no counterpart and are left out; so are
 * training mode and after-training, which the folded model does not compute. Every other golden
 * (outputs, input gradients, other layers) is the bundle's own.
 */
export function rewrittenBundleView(bundle: Bundle, rewrites: readonly InferenceRewrite[]): Bundle {
  if (rewrites.length === 0) return bundle;
  const into = new Map(rewrites.map((r) => [r.removed, r.into]));
  // Rewrites are listed in the order they were made: a layer's last one removed what it now outputs.
  const lastRemoved = new Map(rewrites.map((r) => [r.into, r.removed]));
  const survivorOf = (layer: string): string => (into.has(layer) ? survivorOf(into.get(layer)!) : layer);
  const changed = new Set([...into.keys(), ...lastRemoved.keys()]);
  const renamed = new Map([...lastRemoved].map(([survivor, removed]) => [removed, survivor]));

  const tensors = bundle.manifest.goldens.tensors.flatMap((g): GoldenTensorRecord[] => {
    if (g.kind === 'layer_output' || g.kind === 'grad_layer_output') {
      if (renamed.has(g.layer)) {
        const golden = { ...g, layer: renamed.get(g.layer)! };
        absorbedGoldens.set(golden, g.layer);
        return [golden];
      }
      return changed.has(g.layer) ? [] : [g];
    }
    if (g.kind === 'grad_weight') return changed.has(g.layer) ? [] : [g];
    return [g];
  });
  const goldens: BundleManifest['goldens'] = { ...bundle.manifest.goldens, tensors: tensors as BundleManifest['goldens']['tensors'] };
  if (goldens.training && !('skipped' in goldens.training)) goldens.training = { skipped: REWRITTEN_FOR_INFERENCE };
  if (goldens.after_training && !('skipped' in goldens.after_training)) goldens.after_training = { steps: goldens.after_training.steps, skipped: REWRITTEN_FOR_INFERENCE };
  return {
    ...bundle,
    manifest: { ...bundle.manifest, layers: bundle.manifest.layers.filter((l) => !into.has(l.name)), goldens },
    modelConfig: withoutLayers(readingSurvivors(bundle.modelConfig, (layer) => (into.has(layer) ? survivorOf(layer) : layer)) as KerasObject, into),
  };
}

/** The model config without the removed layers (nothing reads them any more): no layer counts them as another reader. */
function withoutLayers(model: KerasObject, removed: ReadonlyMap<string, string>): KerasObject {
  const layers = model.config['layers'] as KerasObject[] | undefined;
  if (!layers) return model;
  const kept = layers.filter((l) => !removed.has(String(l.config['name'] ?? l['name'])));
  return { ...model, config: { ...model.config, layers: kept } };
}

/** A copy of a Keras config whose tensor references (keras_history, output_layers) to removed layers name their survivors. */
function readingSurvivors(value: unknown, survivor: (layer: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => readingSurvivors(v, survivor));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if ((key === 'keras_history' || key === 'output_layers') && Array.isArray(v)) {
      out[key] = key === 'keras_history' ? renamedRef(v, survivor) : v.map((ref) => (Array.isArray(ref) ? renamedRef(ref, survivor) : ref));
    } else {
      out[key] = readingSurvivors(v, survivor);
    }
  }
  return out;
}

function renamedRef(ref: unknown[], survivor: (layer: string) => string): unknown[] {
  return typeof ref[0] === 'string' ? [survivor(ref[0]), ...ref.slice(1)] : ref;
}
