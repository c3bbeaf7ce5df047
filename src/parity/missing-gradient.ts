import * as tf from '@tensorflow/tfjs';
import type { Bundle } from '../keras/bundle.js';
import { UnsupportedLayerError } from '../errors.js';

/**
 * tfjs registers no gradient for some kernels (TopK, ArgMax, ... in 4.22), and its backward pass
 * then throws "gradient function not found for <kernel>" without saying which layer ran it. This
 * turns that error into one naming the layer(s), found by running each layer alone on zeros
 * under tf.profile and reading the kernels it ran. Any other error is returned as is.
 */
export async function explainMissingGradient(error: unknown, model: tf.LayersModel, bundle: Bundle): Promise<unknown> {
  const kernel = /gradient function not found for (\w+)/.exec((error as Error)?.message ?? '')?.[1];
  if (!kernel) return error;
  const layers = await layersRunningKernel(model, kernel);
  const which = layers.length > 0 ? `layer ${layers.map((l) => `'${l.name}' (${l.getClassName()})`).join(', ')} runs it` : 'a layer of the model runs it';
  return new UnsupportedLayerError(
    `${bundle.dir}: tfjs has no gradient for the operation '${kernel}', and ${which}, so gradients cannot be compared. ` +
      `Give that layer's call a gradient with tf.customGrad, ` +
      `or compute it with differentiable operations.`,
  );
}

async function layersRunningKernel(model: tf.LayersModel, kernel: string): Promise<tf.layers.Layer[]> {
  const found: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    const node = layer.inboundNodes[0] as unknown as { inputTensors: tf.SymbolicTensor[] } | undefined;
    if (!node || node.inputTensors.length === 0) continue;
    const inputs = node.inputTensors.map((t) => tf.zeros(t.shape.map((d) => d ?? 1), t.dtype));
    try {
      const info = await tf.profile(() => {
        tf.dispose(layer.apply(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor | tf.Tensor[]);
      });
      if (info.kernelNames.includes(kernel)) found.push(layer);
    } catch {
      // A layer that cannot run on zeros alone is not what this search can name.
    } finally {
      tf.dispose(inputs);
    }
  }
  return found;
}
