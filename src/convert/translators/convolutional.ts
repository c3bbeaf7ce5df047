import { InputError, UnsupportedLayerError } from '../../errors.js';
import type { KerasObject } from '../../keras/keras-object.js';
import { activation } from '../activations.js';
import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, isNullish, translateFields, type FieldRule } from '../field-rules.js';
import { constraint, initializer, regularizer } from '../keras-objects.js';
import '../../layers/keras3/conv1d.js';
import '../../layers/keras3/grouped-conv.js';
import type { TranslationContext } from '../translation-context.js';
import { registerTranslator, type TfjsLayerConfig } from '../translator-registry.js';
import { to, trainingLossOnly, weightFields } from '../class-translator.js';
import '../../layers/keras3/conv1d-transpose.js';
import '../../layers/keras3/separable-conv1d.js';
import '../../layers/keras3/depthwise-conv1d.js';

// Keras 3 and tfjs-layers share the weight layouts of these layers (kernel_size + [in, filters],
// transposed convolutions kernel_size + [filters, in], depthwise kernel_size + [in, multiplier]),
// so weights map one to one. Where tfjs-layers lacks a behaviour, or has it wrong, the field is
// refused at any value but the one tfjs computes correctly.

const isOne = (value: unknown): boolean => value === 1 || (Array.isArray(value) && value.every((v) => v === 1));
const isChannelsLast = (value: unknown): boolean => value === 'channels_last' || isNullish(value);

/** 'valid' and 'same' (Keras allows 'causal' on Conv1D only, which KerasConv1D converts). */
const padding: FieldRule = (value, context, field) => {
  if (value !== 'valid' && value !== 'same') {
    throw new UnsupportedLayerError(
      `${context.where(field)}: padding ${JSON.stringify(value)} is not supported: tfjs-layers convolutions ` +
        `compute 'valid' and 'same' only.`,
    );
  }
  return { key: field, value };
};

/** Fields every Keras 3 convolution has, with the tfjs rule for each. */
const sharedConvFields: Record<string, FieldRule> = {
  ...baseLayerFields,
  kernel_size: copy,
  strides: copy,
  padding,
  data_format: copy,
  activation,
  use_bias: copy,
  bias_initializer: initializer,
  bias_regularizer: regularizer,
  activity_regularizer: regularizer,
  bias_constraint: constraint,
};

/** Conv1D/2D/3D's own fields: a kernel, groups (1 here; see translateGrouped), and LoRA (present in the config only when enabled). */
const kernelFields: Record<string, FieldRule> = {
  filters: copy,
  kernel_initializer: initializer,
  kernel_regularizer: regularizer,
  kernel_constraint: constraint,
  groups: droppedAtDefault(isOne, 'tfjs-layers has no grouped convolutions'),
  lora_rank: droppedAtDefault(isNullish, 'LoRA adapters are not converted'),
  lora_alpha: droppedAtDefault(isNullish, 'LoRA adapters are not converted'),
};

// tfjs-core can run dilated convolutions but not differentiate them (its Conv2D, Conv3D, fused
// conv2d and depthwise gradients assert dilations of 1): outputs match Keras, gradients throw.
const dilatedForwardOnly: FieldRule = copy;

const isGrouped = (layer: KerasObject): boolean => !isNullish(layer.config['groups']) && layer.config['groups'] !== 1;

/** The input's channel count, when Keras recorded the input shape (build_config). */
function inputChannels(layer: KerasObject): unknown {
  const shape = (layer.build_config as { input_shape?: unknown } | null | undefined)?.input_shape;
  if (!Array.isArray(shape)) return undefined;
  return layer.config['data_format'] === 'channels_first' ? shape[1] : shape[shape.length - 1];
}

/** What Keras's BaseConv checks of groups: a positive integer dividing filters and the input's channels. */
function checkGroups(layer: KerasObject, context: TranslationContext): void {
  const { groups, filters } = layer.config;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) {
    throw new InputError(`${context.where('groups')}: ${JSON.stringify(groups)} is not a positive integer.`);
  }
  if (typeof filters !== 'number' || filters % groups !== 0) {
    throw new InputError(`${context.where('filters')}: ${JSON.stringify(filters)} filters cannot be split into groups=${groups} equal groups.`);
  }
  const channels = inputChannels(layer);
  if (typeof channels === 'number' && channels % groups !== 0) {
    throw new InputError(`${context.where('groups')}: the input's ${channels} channels cannot be split into groups=${groups} equal groups.`);
  }
}

/**
 * Conv1D/2D/3D with groups > 1 run as keras-bridge's KerasGroupedConv1D/2D/3D (tfjs-layers has no
 * grouped convolutions), which also take Conv1D's causal padding, channels_first and dilation
 * (spelled out in the kernel, so that tfjs can differentiate it).
 */
function translateGrouped(layer: KerasObject, context: TranslationContext, rank: number): TfjsLayerConfig {
  checkGroups(layer, context);
  return {
    class_name: `KerasGroupedConv${rank}D`,
    config: translateFields(
      layer.config,
      { ...sharedConvFields, ...kernelFields, groups: copy, padding: rank === 1 ? copy : padding, dilation_rate: copy },
      context,
    ),
  };
}

registerTranslator(['Conv2D', 'Conv3D'], (layer, context) => {
  if (isGrouped(layer)) return translateGrouped(layer, context, layer.class_name === 'Conv2D' ? 2 : 3);
  return {
    class_name: layer.class_name,
    config: translateFields(layer.config, { ...sharedConvFields, ...kernelFields, dilation_rate: dilatedForwardOnly }, context),
  };
});

/**
 * Conv1D runs as tfjs-layers' Conv1D where that computes what Keras does; padding 'causal',
 * channels_first (tfjs leaves its output transposed) and dilation (tfjs cannot differentiate it)
 * run as keras-bridge's KerasConv1D instead.
 */
registerTranslator(['Conv1D'], (layer, context) => {
  if (isGrouped(layer)) return translateGrouped(layer, context, 1);
  const { padding: pad, data_format: format, dilation_rate: dilation } = layer.config;
  const ours = pad === 'causal' || !isChannelsLast(format) || !isOne(dilation ?? 1);
  if (!ours) {
    return {
      class_name: 'Conv1D',
      config: translateFields(layer.config, { ...sharedConvFields, ...kernelFields, dilation_rate: copy }, context),
    };
  }
  return {
    class_name: 'KerasConv1D',
    config: translateFields(layer.config, { ...sharedConvFields, ...kernelFields, padding: copy, dilation_rate: copy }, context),
  };
});

// Keras 3's output_padding and dilation_rate have no counterpart in tfjs-layers' transposed
// convolutions, which ignore a dilation rate given to them.
const transposeFields: Record<string, FieldRule> = {
  ...sharedConvFields,
  filters: copy,
  kernel_initializer: initializer,
  kernel_regularizer: regularizer,
  kernel_constraint: constraint,
  output_padding: droppedAtDefault(isNullish, 'tfjs-layers transposed convolutions have no output_padding'),
  dilation_rate: droppedAtDefault(isOne, 'tfjs-layers transposed convolutions ignore dilation_rate'),
};

registerTranslator(['Conv2DTranspose', 'Conv3DTranspose'], (layer, context) => ({
  class_name: layer.class_name,
  config: translateFields(layer.config, transposeFields, context),
}));

registerTranslator(['DepthwiseConv2D'], (layer, context) => ({
  class_name: 'DepthwiseConv2D',
  config: translateFields(
    layer.config,
    {
      ...sharedConvFields,
      depth_multiplier: copy,
      depthwise_initializer: initializer,
      depthwise_regularizer: regularizer,
      depthwise_constraint: constraint,
      // tfjs-layers' DepthwiseConv2D.call() passes no dilation to tf.depthwiseConv2d.
      dilation_rate: droppedAtDefault(isOne, "tfjs-layers' DepthwiseConv2D ignores dilation_rate"),
    },
    context,
  ),
}));

registerTranslator(['SeparableConv2D'], (layer, context) => {
  // tfjs-layers' SeparableConv2D adds the bias in channels_first layout to its NHWC result,
  // before transposing back, which misplaces (or fails to broadcast) the bias.
  if (!isChannelsLast(layer.config['data_format']) && layer.config['use_bias'] !== false) {
    throw new UnsupportedLayerError(
      `${context.where('data_format')}: channels_first with use_bias is not supported: tfjs-layers' SeparableConv2D ` +
        `adds the bias along the wrong axis in that layout. Use channels_last, or use_bias=False.`,
    );
  }
  return {
    class_name: 'SeparableConv2D',
    config: translateFields(
      layer.config,
      {
        ...sharedConvFields,
        filters: copy,
        depth_multiplier: copy,
        dilation_rate: dilatedForwardOnly,
        depthwise_initializer: initializer,
        pointwise_initializer: initializer,
        depthwise_regularizer: regularizer,
        pointwise_regularizer: regularizer,
        depthwise_constraint: constraint,
        pointwise_constraint: constraint,
      },
      context,
    ),
  };
});

// ---- The 1D transposed, separable and depthwise convolutions, which tfjs-layers lacks: keras-bridge's ----

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
