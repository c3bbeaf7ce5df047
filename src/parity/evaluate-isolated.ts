import tf from '#tfjs';
import { bundleGolden, type Bundle } from '../keras/bundle.js';
import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import type { ComputedTensor } from './evaluate-model.js';
import { goldenKey } from './evaluate-model.js';
import { goldenTensor } from './golden-tensor.js';
import { layerCalls, type TensorRef } from './layer-inputs.js';

export interface IsolatedEvaluation {
  /** Keyed by goldenKey() of the layer_output goldens that could be replayed. */
  computed: Map<string, ComputedTensor>;
  /** Layers that could not be run alone, with why. */
  skipped: Array<{ layer: string; reason: string }>;
}

/**
 * Layer-isolated mode: each layer is run alone on Keras's own outputs of the layers feeding it
 * (their goldens), so that an error upstream neither hides nor causes one downstream. Each layer's
 * backward pass alone is isolated-gradients.ts's.
 */
export async function evaluateLayersInIsolation(model: tf.LayersModel, bundle: Bundle): Promise<IsolatedEvaluation> {
  const goldens = bundle.manifest.goldens.tensors;
  const calls = layerCalls(bundle.modelConfig);
  const inputNames = new Map(bundle.manifest.inputs.map((input, i) => [input.name, i]));
  const findGolden = ([layer, node, tensor]: TensorRef): GoldenTensorRecord | undefined =>
    inputNames.has(layer)
      ? goldens.find((g) => g.kind === 'input' && g.index === inputNames.get(layer))
      : goldens.find((g) => g.kind === 'layer_output' && g.layer === layer && g.node === node && g.index === tensor);
  const computed = new Map<string, ComputedTensor>();
  const skipped: IsolatedEvaluation['skipped'] = [];
  const outputsByLayer = new Map<string, GoldenTensorRecord[]>();
  for (const g of goldens) {
    if (g.kind === 'layer_output' && g.node === 0) outputsByLayer.set(g.layer, [...(outputsByLayer.get(g.layer) ?? []), g]);
  }
  for (const [layerName, layerGoldens] of outputsByLayer) {
    const call = calls.get(layerName);
    if (!call || call.inputs.length === 0) continue; // input layers: nothing to run
    if (call.hasMask) {
      skipped.push({ layer: layerName, reason: 'its input carries a mask, which comes from the whole graph, not from goldens' });
      continue;
    }
    const feeding = call.inputs.map((ref) => ({ ref, golden: findGolden(ref) }));
    const missing = feeding.find((f) => !f.golden);
    if (missing) {
      const [producer, node] = missing.ref;
      const why = calls.get(producer)?.isOperation
        ? 'an operation node, which has no golden'
        : `call ${node} of a shared layer; goldens hold each layer's first call`;
      skipped.push({ layer: layerName, reason: `its input '${producer}' is ${why}` });
      continue;
    }
    const inputs = feeding.map((f) => goldenTensor(bundleGolden(bundle, f.golden!)));
    try {
      const out = model.getLayer(layerName).apply(inputs.length === 1 ? inputs[0]! : inputs, { ...call.kwargs, training: false });
      const outs = (Array.isArray(out) ? out : [out]) as tf.Tensor[];
      for (const g of layerGoldens) {
        const t = outs[g.kind === 'layer_output' ? g.index : 0];
        if (t) computed.set(goldenKey(g), { shape: [...t.shape], values: (await t.data()) as Float32Array });
      }
      tf.dispose(outs);
    } finally {
      tf.dispose(inputs);
    }
  }
  return { computed, skipped };
}
