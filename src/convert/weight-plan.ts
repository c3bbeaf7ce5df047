import type * as tf from '@tensorflow/tfjs';
import { WeightMismatchError } from '../errors.js';
import type { FieldNote } from './conversion-report.js';
import { castReason, type WeightDtype } from './weight-values.js';
import type { SourceWeight } from './weight-source.js';
import { kerasPositions, positionsByOwner } from './weight-pairing.js';

const TFJS_WEIGHT_DTYPES = new Set(['float32', 'int32', 'bool']);
const BYTES_PER_ELEMENT: Record<WeightDtype, number> = { float32: 4, int32: 4, bool: 1 };

/** One tfjs weight and the Keras weight whose bytes (cast to `spec.dtype`) it loads. */
export interface PlannedWeight {
  /** Its entry in model.json's weights manifest: the tfjs name, the Keras shape, the tfjs dtype. */
  spec: tf.io.WeightsManifestEntry & { dtype: WeightDtype };
  source: SourceWeight;
  layer: string;
  /** `<file>: layer '<layer>', weight '<name>'`, for messages about its values. */
  where: string;
  /** The tfjs variable's constraint, which tfjs applies on load (weight-constraints.ts). */
  constraint?: NonNullable<tf.LayerVariable['constraint']>;
  /** Its bytes in model.json's shards. */
  byteLength: number;
}

/** The converted model's weights, in shard order, before any of their bytes is read. */
export interface WeightPlan {
  weights: PlannedWeight[];
  /** Weights whose dtype changes on the way (tfjs has no int64, no float64). */
  notes: FieldNote[];
  byteLength: number;
}

/**
 * Pairs each weight of the built tfjs model with the Keras weight of the same layer, by name when
 * the names match Keras's weight paths and otherwise at the same position (weight-pairing.ts),
 * checking count, shape and dtype from what the source declares: no weight's bytes are read here
 * (weight-stream.ts reads them, one at a time, when they are written).
 */
export function planWeights(model: tf.LayersModel, weights: readonly SourceWeight[], source: string): WeightPlan {
  const byLayer = new Map<string, SourceWeight[]>();
  for (const w of weights) byLayer.set(w.layer, [...(byLayer.get(w.layer) ?? []), w]);
  for (const list of byLayer.values()) list.sort((a, b) => a.index - b.index);

  const planned: PlannedWeight[] = [];
  const notes: FieldNote[] = [];
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
      const where = `${source}: layer '${layer.name}', weight '${kerasWeight.name}'`;
      // The variable's dtype decides, as Keras's load_weights assigns with a cast: an int64 kernel
      // of a float32 variable is written as float32, which tf.loadLayersModel accepts.
      const target = tfjsWeight.dtype as string;
      if (!TFJS_WEIGHT_DTYPES.has(target)) throw new WeightMismatchError(`${where}: its tfjs variable is ${target}; tfjs weights are float32, int32 or bool.`);
      const dtype = target as WeightDtype;
      const reason = castReason(kerasWeight.dtype, dtype, where);
      if (reason) notes.push({ field: `weights['${kerasWeight.path}']`, action: 'changed', reason, from: kerasWeight.dtype, to: dtype });
      const elements = kerasWeight.shape.reduce((n, d) => n * d, 1);
      planned.push({
        spec: { name: tfjsWeight.originalName, shape: kerasWeight.shape, dtype },
        source: kerasWeight,
        layer: layer.name,
        where,
        ...(tfjsWeight.constraint ? { constraint: tfjsWeight.constraint } : {}),
        byteLength: elements * BYTES_PER_ELEMENT[dtype],
      });
    });
  }
  const orphan = [...byLayer.keys()][0];
  if (orphan !== undefined) {
    throw new WeightMismatchError(`${source}: weights for layer '${orphan}' have no layer of that name in the converted model.`);
  }
  return { weights: planned, notes, byteLength: planned.reduce((n, w) => n + w.byteLength, 0) };
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

function sameShape(a: readonly number[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
