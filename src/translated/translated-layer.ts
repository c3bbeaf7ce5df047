import tf from '#tfjs';
import { dtype, kerasMasks } from './keras-ops.js';
import { decodePythonConfig, encodePythonConfig, PYTHON_CONFIG_FIELD, SUB_LAYERS_FIELD, tfjsCamelCase } from './python-config.js';
import { LayerFieldError, UnsupportedLayerError } from '../errors.js';

/** Keras's names of a layer's sub-layers by tracking key (the attribute; `attr_0` ... for a list), nested for translated sub-layers. */
export type SubLayerNames = Record<string, { name: string; sub_layers?: SubLayerNames }>;

type Initializer = ReturnType<typeof tf.initializers.zeros>;

export type Kwargs = Record<string, unknown>;

/** What tfjs passes a layer's constructor: the base fields, and the Python config (encoded, or as given). */
export type TranslatedLayerArgs = tf.serialization.ConfigDict & { name?: string; trainable?: boolean };

interface KerasWeightSpec {
  name?: string;
  shape: Array<number | null> | number[];
  initializer?: unknown;
  dtype?: string | null;
  trainable?: boolean;
  /** A Keras constraint ({class_name, config} or a name): applied after each training step, as in Keras. */
  constraint?: unknown;
}

// Sizes an open dimension takes while call() runs on zeros to find output shapes (two different
// ones: a dimension that follows them is open in the output too). Bigger ones first, since a
// convolution or a positional table may need a minimum; smaller ones if those fail.
const PROBE_SIZES: Array<[number, number]> = [
  [8, 9],
  [4, 5],
  [2, 3],
];

/**
 * The base of every layer translated from Python (route 1). It holds what the translated code
 * leans on: the layer's get_config() fields, sub-layers in Keras's tracking order, weights created
 * with Keras's names and listed in Keras's order (own weights, then each sub-layer's, so that they
 * pair with the bundle's by position), and `training` passed down to sub-layers.
 *
 * Output shapes come from running call() on zeros (twice, so that open dimensions show), not from a
 * translation of compute_output_shape, which users often write for one case only; for the same
 * reason sub-layers are built by that run, under this layer's name scope, so that their weights are
 * named `<layer>/<sub-layer>/<weight>`.
 */
export class TranslatedLayer extends tf.layers.Layer {
  /** The layer's own get_config() fields, as Python wrote them. */
  protected readonly pythonConfig: Record<string, unknown>;
  private readonly subLayerList: Array<{ key: string; layer: tf.layers.Layer; named: boolean }> = [];
  /** Keras's names of the sub-layers, by tracking key, when the converter knows them. */
  private kerasNames: SubLayerNames = {};
  private probing = false;

  constructor(args: TranslatedLayerArgs) {
    super(args as tf.serialization.ConfigDict);
    const encoded = args[tfjsCamelCase(PYTHON_CONFIG_FIELD)] ?? args[PYTHON_CONFIG_FIELD];
    this.pythonConfig = typeof encoded === 'string' ? decodePythonConfig(encoded) : withoutBaseFields(args);
    const names = args[tfjsCamelCase(SUB_LAYERS_FIELD)] ?? args[SUB_LAYERS_FIELD];
    if (typeof names === 'string') this.kerasNames = decodePythonConfig(names) as SubLayerNames;
  }

  /** A get_config() field, or the Python default when the config lacks it. */
  protected configValue<T = any>(key: string, fallback?: T): T {
    if (key in this.pythonConfig) return this.pythonConfig[key] as T;
    if (fallback !== undefined) return fallback;
    throw new LayerFieldError(this.getClassName(), this.name, key, 'missing, and __init__ gives it no default');
  }

  /** `**kwargs` of __init__: the config's fields __init__ does not name. */
  protected otherConfig(named: string[]): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.pythonConfig).filter(([key]) => !named.includes(key)));
  }

  /** Records the mask the layer receives as its input's Keras mask (kops.getKerasMask), as Keras keeps it on the tensor. */
  override apply(inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[], kwargs?: Kwargs): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[] {
    const first = Array.isArray(inputs) ? inputs[0] : inputs;
    const mask = kwargs?.['mask'];
    const firstMask = Array.isArray(mask) ? mask[0] : mask;
    if (first instanceof tf.Tensor && firstMask instanceof tf.Tensor) kerasMasks.set(first, firstMask);
    return super.apply(inputs, kwargs);
  }

  /**
   * Keeps a sub-layer (or a list of them) in creation order, as Keras tracks attributes. `name` (the
   * attribute's, `name_0`, `name_1` ... for a list) replaces tfjs's automatic name, which differs
   * between two instances of one model: weights are saved and loaded by name.
   */
  protected track<T extends tf.layers.Layer | tf.layers.Layer[] | null>(layers: T, key: string, named = false): T {
    if (layers === null) return layers; // `self.norm = LayerNormalization() if normalize else None`
    const list = Array.isArray(layers) ? layers : [layers as tf.layers.Layer];
    list.forEach((layer, i) => {
      const entry = { key: Array.isArray(layers) ? `${key}_${i}` : key, layer, named };
      this.subLayerList.push(entry);
      this.nameSubLayer(entry);
    });
    return layers;
  }

  /** Keras's name when known (its weights are then named by their Keras paths), else the attribute's unless Python named it. */
  private nameSubLayer(entry: { key: string; layer: tf.layers.Layer; named: boolean }): void {
    const keras = this.kerasNames[entry.key];
    if (keras || !entry.named) (entry.layer as { name: string }).name = keras?.name ?? entry.key;
    if (entry.layer instanceof TranslatedLayer && keras?.sub_layers) entry.layer.useKerasNames(keras.sub_layers);
  }

  /** Renames the sub-layers (before they are built) to Keras's names: a translated layer inside another gets them from its holder. */
  useKerasNames(names: SubLayerNames): void {
    this.kerasNames = names;
    for (const entry of this.subLayerList) this.nameSubLayer(entry);
  }

  get subLayers(): tf.layers.Layer[] {
    return this.subLayerList.map((e) => e.layer);
  }

  /** `self.sub(x, training=...)`: tfjs's apply() builds the sub-layer under this layer's name scope. */
  protected callLayer(layer: tf.layers.Layer | null, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): any {
    if (layer === null) throw new TypeError(`${this.getClassName()} '${this.name}': a sub-layer that is None was called`);
    const first = Array.isArray(inputs) ? inputs[0]! : inputs;
    const inputMask = (kwargs['mask'] as tf.Tensor | undefined) ?? kerasMasks.get(first);
    const options = Object.fromEntries(Object.entries({ ...kwargs, mask: inputMask }).filter(([, v]) => v !== null && v !== undefined));
    const output = layer.apply(inputs, options) as tf.Tensor | tf.Tensor[];
    // The output carries the sub-layer's mask, as in Keras (an Embedding with mask_zero).
    const outputMask = maskOf(layer, inputs, inputMask);
    if (outputMask && output instanceof tf.Tensor) kerasMasks.set(output, outputMask);
    return output;
  }

  /** compute_mask()'s body: Python returns a mask, a list of them or None. */
  protected maskResult(body: () => tf.Tensor | tf.Tensor[] | null | undefined): tf.Tensor | tf.Tensor[] {
    return (body() ?? null) as tf.Tensor;
  }

  /** `self.sub.build(shape)`: built on a symbolic input, under this layer's name scope, as apply() would. */
  protected buildLayer(layer: tf.layers.Layer, shape: Array<number | null> | Array<Array<number | null>>): null {
    if (layer.built) return null;
    // build(query_shape, value_shape): one symbolic input per shape.
    const shapes = Array.isArray(shape[0]) ? (shape as Array<Array<number | null>>) : [shape as Array<number | null>];
    const inputs = shapes.map((s) => tf.input({ batchShape: s }));
    layer.apply(inputs.length === 1 ? inputs[0]! : inputs);
    return null;
  }

  /** `self.add_weight(...)` with Keras's initializer names. */
  protected kerasWeight(spec: KerasWeightSpec): tf.LayerVariable {
    const shape = spec.shape.map((d) => {
      if (d === null) throw new UnsupportedLayerError(`${this.getClassName()} layer '${this.name}': weight '${spec.name}' has an open dimension in its shape`);
      return d;
    });
    const constraint = spec.constraint ? (kerasObjectFor(spec.constraint, 'constraint') as ReturnType<typeof tf.constraints.nonNeg>) : undefined;
    return this.addWeight(spec.name ?? 'variable', shape, (spec.dtype ? dtype(spec.dtype) : 'float32') as tf.DataType, initializerFor(spec.initializer), undefined, spec.trainable ?? true, constraint);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    if (!this.probing && this.subLayers.some((l) => !l.built)) {
      // Sub-layers are built by calling them, as Keras builds them on the first call.
      this.runOnZeros(inputShape, PROBE_SIZES[0]![0]);
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    let failure: unknown;
    for (const [a, b] of PROBE_SIZES) {
      try {
        const first = this.runOnZeros(inputShape, a);
        const second = this.runOnZeros(inputShape, b);
        const merge = (x: number[], y: number[]): tf.Shape => x.map((d, i) => (d === y[i] ? d : null));
        if (first.length === 1 && !this.returnsList) return merge(first[0]!, second[0]!);
        return first.map((s, i) => merge(s, second[i]!));
      } catch (e) {
        failure = e;
      }
    }
    throw new UnsupportedLayerError(`${this.getClassName()} layer '${this.name}': could not find the output shape by running call() on zeros: ${(failure as Error).message}`);
  }

  private returnsList = false;

  /** call() on zeros shaped like `inputShape`, its open dimensions set to `size` (batch: size - 6 ≥ 2). */
  private runOnZeros(inputShape: tf.Shape | tf.Shape[], size: number): number[][] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    const list = Array.isArray(inputShape[0]);
    this.probing = true;
    try {
      return tf.tidy(() => {
        const zeros = shapes.map((s) => tf.zeros(s.map((d, i) => d ?? (i === 0 ? Math.max(2, size - 6) : size))));
        const out = this.call(list ? zeros : zeros[0]!, {});
        this.returnsList = Array.isArray(out);
        return (Array.isArray(out) ? out : [out]).map((t) => t.shape);
      });
    } finally {
      this.probing = false;
    }
  }

  // Keras's order: own weights (trainable, then not), then each sub-layer's in tracking order.
  override get trainableWeights(): tf.LayerVariable[] {
    if (!this.trainable) return [];
    return [...super.trainableWeights, ...this.subLayers.flatMap((l) => l.trainableWeights)];
  }

  override get nonTrainableWeights(): tf.LayerVariable[] {
    const own = super.nonTrainableWeights;
    const subs = this.subLayers.flatMap((l) => (this.trainable ? l.nonTrainableWeights : l.weights));
    return [...own, ...subs];
  }

  override get weights(): tf.LayerVariable[] {
    const ownTrainable = super.trainableWeights;
    const ownOther = super.nonTrainableWeights;
    return [...ownTrainable, ...ownOther, ...this.subLayers.flatMap((l) => l.weights)];
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    // Keras drops the mask of a layer that does not support masking; tfjs's types say null only loosely.
    return (this.supportsMasking ? (mask ?? null) : null) as unknown as tf.Tensor;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), [PYTHON_CONFIG_FIELD]: encodePythonConfig(this.pythonConfig) };
    if (Object.keys(this.kerasNames).length > 0) config[SUB_LAYERS_FIELD] = encodePythonConfig(this.kerasNames);
    return config;
  }
}

function maskOf(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], mask: tf.Tensor | undefined): tf.Tensor | null {
  try {
    const computed = layer.computeMask(inputs, mask) as tf.Tensor | tf.Tensor[] | null;
    return Array.isArray(computed) ? (computed[0] ?? null) : (computed ?? null);
  } catch {
    return null; // a layer that refuses a mask passes none on
  }
}

const BASE_FIELDS = new Set(['name', 'trainable', 'dtype', 'autocast', 'activityRegularizer', 'activity_regularizer', 'inputShape', 'batchInputShape', 'batchSize', 'inputDType', 'weights']);

function withoutBaseFields(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([k]) => !BASE_FIELDS.has(k)));
}

const KERAS_INITIALIZER_ALIASES: Record<string, { class_name: string; config: Record<string, unknown> }> = {
  uniform: { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05 } },
  random_uniform: { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05 } },
  normal: { class_name: 'RandomNormal', config: { mean: 0, stddev: 0.05 } },
  random_normal: { class_name: 'RandomNormal', config: { mean: 0, stddev: 0.05 } },
};

/**
 * Keras's initializer (a name or {class_name, config}) as a tfjs one. It only matters when tfjs
 * initializes the layer itself: converted weights are loaded from Keras. One tfjs lacks is Zeros.
 */
function initializerFor(spec: unknown): Initializer {
  const object = typeof spec === 'string' ? (KERAS_INITIALIZER_ALIASES[spec] ?? { class_name: pascal(spec), config: {} }) : (spec as { class_name?: string; config?: Record<string, unknown> } | undefined);
  if (!object?.class_name) return tf.initializers.zeros();
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[object.class_name];
  if (!registered) return tf.initializers.zeros();
  const config = Object.fromEntries(Object.entries(object.config ?? {}).filter(([, v]) => v !== null).map(([k, v]) => [tfjsCamelCase(k), typeof v === 'string' ? tfjsCamelCase(v) : v]));
  return registered[1](registered[0], config as tf.serialization.ConfigDict) as Initializer;
}

/** A Keras object tfjs also has (a constraint), by its class name; an error names one it lacks. */
function kerasObjectFor(spec: unknown, what: string): unknown {
  const object = typeof spec === 'string' ? { class_name: pascal(spec), config: {} } : (spec as { class_name?: string; config?: Record<string, unknown> });
  const registered = object?.class_name ? tf.serialization.SerializationMap.getMap().classNameMap[object.class_name] : undefined;
  if (!registered) throw new UnsupportedLayerError(`${what} ${JSON.stringify(spec)}: tfjs has no class of that name`);
  const config = Object.fromEntries(Object.entries(object.config ?? {}).filter(([, v]) => v !== null).map(([k, v]) => [tfjsCamelCase(k), v]));
  return registered[1](registered[0], config as tf.serialization.ConfigDict);
}

function pascal(name: string): string {
  return name.split('_').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}
