import type * as tf from '@tensorflow/tfjs';
import { WeightMismatchError } from '../errors.js';
import type { FieldNote } from './conversion-report.js';
import type { PairedWeight } from './weight-constraints.js';
import type { SourceWeight } from './weight-source.js';
import { kerasPositions, positionsByOwner } from './weight-pairing.js';

const TFJS_WEIGHT_DTYPES = new Set(['float32', 'int32', 'bool']);

export interface AssignedWeights {
  specs: tf.io.WeightsManifestEntry[];
  /** The Keras bytes, concatenated in `specs` order, unchanged (but int64 narrowed to int32). */
  data: Uint8Array;
  /** Weights whose dtype changed on the way (tfjs has no int64). */
  notes: FieldNote[];
  /** Each tfjs weight with the Keras weight it loads. */
  paired: PairedWeight[];
}

/**
 * Pairs each weight of the built tfjs model with the Keras weight of the same layer, by name when
 * the names match Keras's weight paths and otherwise at the same position (weight-pairing.ts),
 * checking count and shape, and lays the Keras bytes out under tfjs's weight names.
 */
export function assignWeights(model: tf.LayersModel, weights: SourceWeight[], source: string): AssignedWeights {
  const byLayer = new Map<string, SourceWeight[]>();
  for (const w of weights) byLayer.set(w.layer, [...(byLayer.get(w.layer) ?? []), w]);
  for (const list of byLayer.values()) list.sort((a, b) => a.index - b.index);

  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const notes: FieldNote[] = [];
  const paired: PairedWeight[] = [];
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
    refuseDuplicateNames(layer, source);
    const tfjsNames = layer.weights.map((w) => w.originalName);
    const positions = kerasWeights.some((w) => w.owner)
      ? positionsByOwner(tfjsNames, kerasWeights, layer.name, source)
      : kerasPositions(tfjsNames, kerasWeights.map((w) => w.path));
    layer.weights.forEach((tfjsWeight, i) => {
      const kerasWeight = kerasWeights[positions[i]!]!;
      if (!sameShape(kerasWeight.shape, tfjsWeight.shape)) {
        throw new WeightMismatchError(
          `${source}: layer '${layer.name}', weight '${kerasWeight.name}' (${kerasWeight.path}) has shape ` +
            `[${kerasWeight.shape.join(', ')}] in Keras but tfjs expects [${tfjsWeight.shape.join(', ')}] ` +
            `for '${tfjsWeight.originalName}'.`,
        );
      }
      paired.push({ layer: layer.name, tfjs: tfjsWeight, keras: kerasWeight });
      if (kerasWeight.dtype === 'int64') {
        specs.push({ name: tfjsWeight.originalName, shape: kerasWeight.shape, dtype: 'int32' });
        chunks.push(narrowToInt32(kerasWeight, `${source}: layer '${layer.name}', weight '${kerasWeight.name}'`));
        notes.push({ field: `weights['${kerasWeight.path}']`, action: 'changed', reason: 'tfjs has no int64 tensors; every value fits int32', from: 'int64', to: 'int32' });
        return;
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
  return { specs, data: concatBytes(chunks), notes, paired };
}

/** tfjs loads weights by name: two weights of one name in a layer cannot both be loaded. */
function refuseDuplicateNames(layer: tf.layers.Layer, source: string): void {
  const seen = new Set<string>();
  for (const weight of layer.weights) {
    if (!seen.has(weight.originalName)) {
      seen.add(weight.originalName);
      continue;
    }
    throw new WeightMismatchError(
      `${source}: layer '${layer.name}' (${layer.getClassName()}): its tfjs implementation creates two weights named ` +
        `'${weight.originalName}', and tfjs loads weights by name. A layer that holds sub-layers must build each under ` +
        `its own name: in build(), call subLayer.apply(tf.input({ batchShape })) rather than subLayer.build(shape), so ` +
        `that its weights are named '${layer.name}/<sub-layer>/<weight>' as in Keras (see README, "Your own model").`,
    );
  }
}

/** int64 little-endian bytes as int32 ones; a value outside int32's range is an error, not a wrap. */
function narrowToInt32(weight: SourceWeight, where: string): Uint8Array {
  const wide = new BigInt64Array(Uint8Array.prototype.slice.call(weight.bytes).buffer);
  const narrow = new Int32Array(wide.length);
  wide.forEach((v, i) => {
    if (v > 2147483647n || v < -2147483648n) throw new WeightMismatchError(`${where}: int64 value ${v} does not fit tfjs's int32.`);
    narrow[i] = Number(v);
  });
  return new Uint8Array(narrow.buffer);
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
