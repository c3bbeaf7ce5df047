import tf from '#tfjs';
import { badField, type NamedLayer } from '../layer-errors.js';

/**
 * One tensor-valued keyword argument of a Keras call (`mask=m`, `initial_state=[h0, c0]`,
 * `attention_mask=m`, a custom layer's `scale=s`), as the adapter receives it: extra positional
 * inputs after the call's own arguments.
 */
export interface TensorKwarg {
  /** The name in Keras's call (`initial_state`). */
  keras: string;
  /** The name the tfjs layer reads from call()'s kwargs (`initialState`). */
  call: string;
  /** How many tensors it holds. */
  count: number;
  /** Whether Keras passed a list (`initial_state=[h0]`) rather than one tensor. */
  list: boolean;
}

export interface CallArgumentsArgs {
  name?: string;
  /** The wrapped layer, serialized as tfjs hands it over ({className, config}). */
  layer: { className: string; config: tf.serialization.ConfigDict };
  /** How many of the inputs are the call's positional arguments; the rest are `kwargs`. */
  positionalArguments: number;
  tensorKwargs: TensorKwarg[];
  trainable?: boolean;
  dtype?: tf.DataType;
}

function deserializeLayer(owner: NamedLayer, value: CallArgumentsArgs['layer']): tf.layers.Layer {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[value.className];
  if (!registered) throw badField(owner, 'layer', `unknown layer class '${value.className}': no tfjs class of that name is registered`);
  const [cls, fromConfig] = registered;
  return fromConfig(cls, value.config) as tf.layers.Layer;
}

const single = <T>(items: T[]): T | T[] => (items.length === 1 ? items[0]! : items);

/**
 * Calls a layer with tensors Keras passed as call keyword arguments. tfjs-layers gives a layer in a
 * functional model only its inputs (and model-level kwargs), never a node's call kwargs, so the
 * converter makes each tensor kwarg an extra input of this adapter, which hands it back to the
 * wrapped layer's call() under the name that layer reads. The wrapped layer's weights are this
 * layer's; an explicit `mask=` replaces the mask tfjs would have propagated.
 */
export class CallArguments extends tf.layers.Layer {
  static readonly className = 'KerasBridgeCallArguments';
  readonly layer: tf.layers.Layer;
  readonly positionalArguments: number;
  readonly tensorKwargs: TensorKwarg[];

  constructor(args: CallArgumentsArgs) {
    super(args);
    this.layer = deserializeLayer(this, args.layer);
    this.positionalArguments = args.positionalArguments;
    this.tensorKwargs = args.tensorKwargs;
    this.supportsMasking = true;
  }

  /** The call's positional inputs, and each tensor kwarg's tensors by its tfjs name. */
  private split<T>(inputs: T | T[]): { positional: T[]; kwargs: Record<string, T | T[]> } {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const positional = list.slice(0, this.positionalArguments);
    const kwargs: Record<string, T | T[]> = {};
    let next = this.positionalArguments;
    for (const kwarg of this.tensorKwargs) {
      const tensors = list.slice(next, next + kwarg.count);
      next += kwarg.count;
      kwargs[kwarg.call] = kwarg.list ? tensors : tensors[0]!;
    }
    return { positional, kwargs };
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    if (!this.layer.built) {
      const { positional } = this.split(inputShape as tf.Shape[]);
      this.layer.build(single(positional) as tf.Shape | tf.Shape[]);
      this.layer.built = true;
    }
    this.built = true;
  }

  override get trainableWeights(): tf.LayerVariable[] {
    return this.layer.trainableWeights;
  }

  override get nonTrainableWeights(): tf.LayerVariable[] {
    return this.layer.nonTrainableWeights;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const { positional, kwargs: tensorKwargs } = this.split(inputs);
    const propagated = Array.isArray(kwargs['mask']) ? (kwargs['mask'] as unknown[]).slice(0, this.positionalArguments) : undefined;
    const mask = 'mask' in tensorKwargs ? tensorKwargs['mask'] : propagated?.some((m) => m != null) ? single(propagated) : undefined;
    return this.layer.call(single(positional), { ...kwargs, ...tensorKwargs, mask });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return this.layer.computeOutputShape(single(this.split(inputShape as tf.Shape[]).positional));
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    if (!this.layer.supportsMasking) return null as unknown as tf.Tensor;
    const { positional, kwargs } = this.split(inputs);
    const propagated = Array.isArray(mask) ? mask.slice(0, this.positionalArguments) : mask === undefined || mask === null ? [] : [mask];
    const explicit = kwargs['mask'] as tf.Tensor | tf.Tensor[] | undefined;
    if (explicit === undefined) return this.layer.computeMask(single(positional), propagated.some((m) => m != null) ? single(propagated) : undefined);
    // The explicit mask is another layer's output (often a model input): tfjs's executor disposes
    // the masks layers return, so the layer passes on a copy (a symbolic tensor is kept as is).
    const given = new Set(Array.isArray(explicit) ? explicit : [explicit]);
    const owned = (m: tf.Tensor | null) => (m instanceof tf.Tensor && given.has(m) ? tf.clone(m) : m);
    const out = this.layer.computeMask(single(positional), explicit);
    return (Array.isArray(out) ? out.map(owned) : owned(out)) as tf.Tensor | tf.Tensor[];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      layer: { className: this.layer.getClassName(), config: this.layer.getConfig() },
      positionalArguments: this.positionalArguments,
      tensorKwargs: this.tensorKwargs as unknown as tf.serialization.ConfigDict[],
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config);
  }
}
tf.serialization.registerClass(CallArguments);
