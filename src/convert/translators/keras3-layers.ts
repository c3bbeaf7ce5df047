import { activation } from '../activations.js';
import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, isFalse, isNullish, rename, translateFields, type FieldRule } from '../field-rules.js';
import { constraint, initializer, regularizer } from '../keras-objects.js';
import { UnsupportedLayerError } from '../../errors.js';
import { registerTranslator } from '../translator-registry.js';
import type { KerasObject } from '../../keras/keras-object.js';
import type { TranslationContext } from '../translation-context.js';
import type { TfjsLayerConfig } from '../translator-registry.js';
import '../../layers/keras3/index.js';

// Keras 3 layers that tfjs-layers lacks, or computes differently, mapped to keras-bridge's own
// TypeScript layers (src/layers/keras3, class names prefixed 'Keras'); where a tfjs-layers class
// computes the same function for the given config, to that class instead.

/** A translator to `tfjsClass` with `rules` on top of the base layer fields. */
function to(tfjsClass: string, rules: Record<string, FieldRule>) {
  return (layer: KerasObject, context: TranslationContext): TfjsLayerConfig => ({
    class_name: tfjsClass,
    config: translateFields(layer.config, { ...baseLayerFields, ...rules }, context),
  });
}

const isZero = (value: unknown): boolean => value === 0 || value === null || value === undefined;
const isOne = (value: unknown): boolean => value === 1 || value === null || value === undefined;

/** A weight's Keras fields `<prefix>_initializer`, `_regularizer`, `_constraint`. */
function weightFields(prefix: string): Record<string, FieldRule> {
  return {
    [`${prefix}_initializer`]: initializer,
    [`${prefix}_regularizer`]: regularizer,
    [`${prefix}_constraint`]: constraint,
  };
}

/** Activity regularizers add a training loss and never change outputs or gradients of ours. */
const trainingLossOnly: FieldRule = (value, context, field) => {
  context.dropped(field, 'an activity regularizer only adds a training loss', value);
  return undefined;
};

/** A 1D layer's value (a pair, or a size) as the one-axis list our N-D layer takes. */
const oneAxis: FieldRule = (value, context, field) => {
  context.changed(field, value, [value], "keras-bridge's layer takes one entry per spatial axis");
  return { key: field, value: [value] };
};

// ---- Activation layers ----

registerTranslator(['ReLU'], (layer, context) =>
  isZero(layer.config['negative_slope']) && isZero(layer.config['threshold'])
    ? to('ReLU', {
        max_value: copy,
        negative_slope: droppedAtDefault(isZero, 'tfjs-layers ReLU has no negative_slope'),
        threshold: droppedAtDefault(isZero, 'tfjs-layers ReLU has no threshold'),
      })(layer, context)
    : to('KerasReLU', { max_value: copy, negative_slope: copy, threshold: copy })(layer, context),
);

registerTranslator(['LeakyReLU'], to('LeakyReLU', { negative_slope: rename('alpha') }));

registerTranslator(['PReLU'], to('PReLU', { ...weightFields('alpha'), shared_axes: copy }));

// tfjs-layers' ELU refuses (throws for) alpha ≠ 1.
registerTranslator(['ELU'], (layer, context) =>
  to(isOne(layer.config['alpha']) ? 'ELU' : 'KerasELU', { alpha: copy })(layer, context),
);

registerTranslator(['Softmax'], to('KerasSoftmax', { axis: copy }));

// ---- Merging ----

registerTranslator(['Subtract'], to('KerasSubtract', {}));

// ---- Normalization ----

registerTranslator(
  ['GroupNormalization'],
  to('KerasGroupNormalization', {
    groups: copy,
    axis: copy,
    epsilon: copy,
    center: copy,
    scale: copy,
    ...weightFields('beta'),
    ...weightFields('gamma'),
  }),
);

registerTranslator(['UnitNormalization'], to('KerasUnitNormalization', { axis: copy }));

registerTranslator(['RMSNormalization'], to('KerasRMSNormalization', { axis: copy, epsilon: copy }));

// ---- 1D convolutions ----

const conv1DFields: Record<string, FieldRule> = {
  kernel_size: copy,
  strides: copy,
  padding: copy,
  data_format: copy,
  dilation_rate: copy,
  activation,
  use_bias: copy,
  activity_regularizer: trainingLossOnly,
  ...weightFields('bias'),
};

registerTranslator(
  ['Conv1DTranspose'],
  to('KerasConv1DTranspose', { ...conv1DFields, filters: copy, output_padding: copy, ...weightFields('kernel') }),
);

registerTranslator(
  ['SeparableConv1D'],
  to('KerasSeparableConv1D', {
    ...conv1DFields,
    filters: copy,
    depth_multiplier: copy,
    ...weightFields('depthwise'),
    ...weightFields('pointwise'),
  }),
);

registerTranslator(['DepthwiseConv1D'], to('KerasDepthwiseConv1D', { ...conv1DFields, depth_multiplier: copy, ...weightFields('depthwise') }));

registerTranslator(['Normalization'], to('KerasNormalization', { axis: copy, mean: copy, variance: copy, invert: copy }));

// ---- Reshaping: the 1D and 3D siblings of tfjs-layers' 2D layers ----

registerTranslator(['Cropping1D'], to('KerasCropping', { cropping: oneAxis }));
registerTranslator(['Cropping3D'], to('KerasCropping', { cropping: copy, data_format: copy }));
registerTranslator(['ZeroPadding1D'], to('KerasZeroPadding', { padding: oneAxis, data_format: copy }));
registerTranslator(['ZeroPadding3D'], to('KerasZeroPadding', { padding: copy, data_format: copy }));
registerTranslator(['UpSampling1D'], to('KerasUpSampling', { size: oneAxis }));
registerTranslator(['UpSampling3D'], to('KerasUpSampling', { size: copy, data_format: copy }));

// ---- Regularization (the identity at inference) ----

registerTranslator(['SpatialDropout2D', 'SpatialDropout3D'], to('KerasSpatialDropout', { rate: copy, seed: copy, data_format: copy }));

// ---- Attention ----

registerTranslator(
  ['EinsumDense'],
  to('KerasEinsumDense', {
    equation: copy,
    output_shape: copy,
    activation,
    bias_axes: copy,
    activity_regularizer: trainingLossOnly,
    ...weightFields('kernel'),
    ...weightFields('bias'),
    lora_rank: droppedAtDefault(isNullish, 'LoRA adapters are not converted'),
    lora_alpha: droppedAtDefault(isNullish, 'LoRA adapters are not converted'),
    quantization_config: droppedAtDefault(isNullish, 'quantized EinsumDense layers are not converted'),
    gptq_unpacked_column_size: droppedAtDefault(isNullish, 'quantized EinsumDense layers are not converted'),
  }),
);

/**
 * A call option (e.g. use_causal_mask) of every node of a functional model's layer, which must
 * agree. tfjs-layers' executor, which predict() runs, drops per-node call kwargs, so our layers
 * take such options from their config instead.
 */
function callOption(layer: KerasObject, context: TranslationContext, option: string, fallback: unknown): unknown {
  const nodes = Array.isArray(layer['inbound_nodes']) ? (layer['inbound_nodes'] as Array<{ kwargs?: Record<string, unknown> }>) : [];
  const values = [...new Set(nodes.map((node) => JSON.stringify(node.kwargs?.[option] ?? fallback)))];
  if (values.length > 1) {
    throw new UnsupportedLayerError(
      `${context.where()}: the layer is called with different ${option} values (${values.join(', ')}); keras-bridge needs one.`,
    );
  }
  const value = values.length === 1 ? (JSON.parse(values[0]!) as unknown) : fallback;
  if (value !== fallback) context.changed(`inbound_nodes[*].kwargs.${option}`, value, value, 'moved into the layer config, since tfjs-layers drops call kwargs in predict()');
  return value;
}

/** Attention layers: use_causal_mask from the call goes into the config; returned scores are refused. */
function attentionTranslator(tfjsClass: string, rules: Record<string, FieldRule>) {
  return (layer: KerasObject, context: TranslationContext): TfjsLayerConfig => {
    if (callOption(layer, context, 'return_attention_scores', false) !== false) {
      throw new UnsupportedLayerError(`${context.where()}: return_attention_scores=True is not supported by keras-bridge yet.`);
    }
    const translated = to(tfjsClass, rules)(layer, context);
    translated.config['use_causal_mask'] = callOption(layer, context, 'use_causal_mask', false);
    return translated;
  };
}

registerTranslator(
  ['MultiHeadAttention'],
  attentionTranslator('KerasMultiHeadAttention', {
    num_heads: copy,
    key_dim: copy,
    value_dim: copy,
    dropout: copy,
    use_bias: copy,
    use_gate: copy,
    output_shape: copy,
    attention_axes: copy,
    sliding_window: copy,
    seed: copy,
    activity_regularizer: trainingLossOnly,
    ...weightFields('kernel'),
    ...weightFields('bias'),
    flash_attention: droppedAtDefault(isFalse, "Keras's TensorFlow backend has no flash attention either"),
  }),
);

registerTranslator(['Attention'], attentionTranslator('KerasAttention', { use_scale: copy, score_mode: copy, dropout: copy, seed: copy }));
registerTranslator(['AdditiveAttention'], attentionTranslator('KerasAdditiveAttention', { use_scale: copy, dropout: copy, seed: copy }));
