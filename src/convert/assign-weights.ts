import type * as tf from '@tensorflow/tfjs';
import { InputError, WeightMismatchError } from '../errors.js';
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
  /** Float weights holding NaN or infinities (a warning each; an error with refuseNonFinite). */
  nonFinite: NonFiniteWeight[];
}

/**
 * Pairs each weight of the built tfjs model with the Keras weight of the same layer, by name when
 * the names match Keras's weight paths and otherwise at the same position (weight-pairing.ts),
 * checking count and shape, and lays the Keras bytes out under tfjs's weight names.
 */
export function assignWeights(model: tf.LayersModel, weights: SourceWeight[], source: string, options: { refuseNonFinite?: boolean } = {}): AssignedWeights {
  const byLayer = new Map<string, SourceWeight[]>();
  for (const w of weights) byLayer.set(w.layer, [...(byLayer.get(w.layer) ?? []), w]);
  for (const list of byLayer.values()) list.sort((a, b) => a.index - b.index);

  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const notes: FieldNote[] = [];
  const paired: PairedWeight[] = [];
  const nonFinite: NonFiniteWeight[] = [];
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
      const where = `${source}: layer '${layer.name}', weight '${kerasWeight.name}'`;
      // The variable's dtype decides, as Keras's load_weights assigns with a cast: an int64 kernel
      // of a float32 variable is written as float32, which tf.loadLayersModel accepts.
      const target = tfjsWeight.dtype as string;
      if (!TFJS_WEIGHT_DTYPES.has(target)) throw new WeightMismatchError(`${where}: its tfjs variable is ${target}; tfjs weights are float32, int32 or bool.`);
      specs.push({ name: tfjsWeight.originalName, shape: kerasWeight.shape, dtype: target as 'float32' });
      const cast = castWeight(kerasWeight, target as WeightDtype, where);
      chunks.push(cast.bytes);
      if (cast.reason) notes.push({ field: `weights['${kerasWeight.path}']`, action: 'changed', reason: cast.reason, from: kerasWeight.dtype, to: target });
      if (target === 'float32') {
        const warning = nonFiniteWarning(cast.bytes, layer.name, kerasWeight.path, where);
        if (warning) nonFinite.push(warning);
      }
    });
  }
  const orphan = [...byLayer.keys()][0];
  if (orphan !== undefined) {
    throw new WeightMismatchError(`${source}: weights for layer '${orphan}' have no layer of that name in the converted model.`);
  }
  if (nonFinite.length > 0 && options.refuseNonFinite) {
    throw new InputError(`${nonFinite[0]!.message}${nonFinite.length > 1 ? ` (and ${nonFinite.length - 1} more weights)` : ''}; refused (--refuse-non-finite-weights).`);
  }
  return { specs, data: concatBytes(chunks), notes, paired, nonFinite };
}

type WeightDtype = 'float32' | 'int32' | 'bool';

/**
 * The Keras bytes in the tfjs variable's dtype: unchanged when they agree, else each value
 * converted (float64 rounded to float32, integers to float32 exactly up to 2^24, int64 narrowed
 * to int32 only when every value fits). Returns why, for the report, when anything changed.
 */
function castWeight(weight: SourceWeight, target: WeightDtype, where: string): { bytes: Uint8Array; reason?: string } {
  if (weight.dtype === target) return { bytes: weight.bytes };
  const values = sourceValues(weight, where);
  if (target === 'int32') {
    const out = new Int32Array(values.length);
    values.forEach((v, i) => {
      const n = typeof v === 'bigint' ? v : Number.isInteger(v) ? BigInt(v) : undefined;
      if (n === undefined || n > 2147483647n || n < -2147483648n) throw new WeightMismatchError(`${where}: ${weight.dtype} value ${v} does not fit tfjs's int32 variable.`);
      out[i] = Number(n);
    });
    return { bytes: new Uint8Array(out.buffer), reason: weight.dtype === 'int64' ? 'tfjs has no int64 tensors; every value fits int32' : `the tfjs variable is int32; every ${weight.dtype} value fits` };
  }
  if (target === 'bool') {
    const out = new Uint8Array(values.length);
    values.forEach((v, i) => (out[i] = Number(v) !== 0 ? 1 : 0));
    return { bytes: out, reason: 'the tfjs variable is bool' };
  }
  const out = new Float32Array(values.length);
  values.forEach((v, i) => (out[i] = Number(v)));
  return { bytes: new Uint8Array(out.buffer), reason: `the tfjs variable is float32; values cast as Keras's load_weights casts them` };
}

function sourceValues(weight: SourceWeight, where: string): ArrayLike<number | bigint> & Iterable<number | bigint> & { forEach(f: (v: number | bigint, i: number) => void): void } {
  const buffer = Uint8Array.prototype.slice.call(weight.bytes).buffer;
  switch (weight.dtype) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'int64': return new BigInt64Array(buffer) as unknown as ReturnType<typeof sourceValues>;
    case 'bool': return new Uint8Array(buffer);
    default: throw new WeightMismatchError(`${where}: weights of dtype ${weight.dtype} are not read by keras-bridge.`);
  }
}

/** A float32 weight holding NaN or ±Inf: a model trained into divergence, or a damaged file. */
export interface NonFiniteWeight {
  layer: string;
  weight: string;
  nan: number;
  infinite: number;
  elements: number;
  message: string;
}

function nonFiniteWarning(bytes: Uint8Array, layer: string, weight: string, where: string): NonFiniteWeight | undefined {
  const values = new Float32Array(Uint8Array.prototype.slice.call(bytes).buffer);
  let nan = 0;
  let infinite = 0;
  for (const v of values) {
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) infinite++;
  }
  if (nan + infinite === 0) return undefined;
  const message = `${where} holds ${nan} NaN and ${infinite} infinite values of ${values.length}: the model's outputs will be NaN or Inf`;
  return { layer, weight, nan, infinite, elements: values.length, message };
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

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
