import type * as tf from '@tensorflow/tfjs';
import { WeightMismatchError } from '../errors.js';
import type { SourceWeight } from './weight-source.js';

const TFJS_WEIGHT_DTYPES = new Set(['float32', 'int32', 'bool']);

export interface AssignedWeights {
  specs: tf.io.WeightsManifestEntry[];
  /** The Keras bytes, concatenated in `specs` order, unchanged. */
  data: Uint8Array;
}

/**
 * Pairs each weight of the built tfjs model with the Keras weight of the same layer at the same
 * position (Keras and tfjs-layers both list a layer's weights in creation order), checking
 * count and shape, and lays the Keras bytes out under tfjs's weight names.
 */
export function assignWeights(model: tf.LayersModel, weights: SourceWeight[], source: string): AssignedWeights {
  const byLayer = new Map<string, SourceWeight[]>();
  for (const w of weights) byLayer.set(w.layer, [...(byLayer.get(w.layer) ?? []), w]);
  for (const list of byLayer.values()) list.sort((a, b) => a.index - b.index);

  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const layer of model.layers) {
    const kerasWeights = byLayer.get(layer.name) ?? [];
    byLayer.delete(layer.name);
    if (kerasWeights.length !== layer.weights.length) {
      throw new WeightMismatchError(
        `${source}: layer '${layer.name}' has ${kerasWeights.length} weights in Keras ` +
          `(${kerasWeights.map((w) => w.name).join(', ') || 'none'}) but its tfjs implementation creates ` +
          `${layer.weights.length} (${layer.weights.map((w) => w.originalName).join(', ') || 'none'}).`,
      );
    }
    layer.weights.forEach((tfjsWeight, i) => {
      const kerasWeight = kerasWeights[i]!;
      if (!sameShape(kerasWeight.shape, tfjsWeight.shape)) {
        throw new WeightMismatchError(
          `${source}: layer '${layer.name}', weight '${kerasWeight.name}' (${kerasWeight.path}) has shape ` +
            `[${kerasWeight.shape.join(', ')}] in Keras but tfjs expects [${tfjsWeight.shape.join(', ')}] ` +
            `for '${tfjsWeight.originalName}'.`,
        );
      }
      if (!TFJS_WEIGHT_DTYPES.has(kerasWeight.dtype)) {
        throw new WeightMismatchError(
          `${source}: layer '${layer.name}', weight '${kerasWeight.name}' is ${kerasWeight.dtype}; tfjs weights are float32, int32 or bool.`,
        );
      }
      specs.push({ name: tfjsWeight.originalName, shape: kerasWeight.shape, dtype: kerasWeight.dtype as 'float32' });
      chunks.push(kerasWeight.bytes);
    });
  }
  const orphan = [...byLayer.keys()][0];
  if (orphan !== undefined) {
    throw new WeightMismatchError(`${source}: weights for layer '${orphan}' have no layer of that name in the converted model.`);
  }
  return { specs, data: concatBytes(chunks) };
}

function sameShape(a: readonly number[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
