import { UnsupportedLayerError } from '../../errors.js';
import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, isFalse, isNullish, translateFields, type FieldRule } from '../field-rules.js';
import '../../layers/keras3/category-encoding.js';
import '../../layers/keras3/image-resizing.js';
import { registerTranslator } from '../translator-registry.js';
import { to } from '../class-translator.js';
import '../../layers/keras3/normalization.js';

// Keras 3 image preprocessing layers: Rescaling is tfjs-layers' own; CenterCrop and Resizing are
// keras-bridge's (src/layers/keras3/image-resizing.ts), since tfjs-layers' compute wrong shapes.

const isChannelsLast = (value: unknown): boolean => value === 'channels_last' || isNullish(value);

/** tfjs's Rescaling multiplies by one number; Keras also allows one per channel. */
const scalar: FieldRule = (value, context, field) => {
  if (typeof value !== 'number') {
    throw new UnsupportedLayerError(`${context.where(field)}: ${JSON.stringify(value)}: tfjs-layers' Rescaling takes a single number.`);
  }
  return { key: field, value };
};

registerTranslator(['Rescaling'], (layer, context) => ({
  class_name: 'Rescaling',
  config: translateFields(layer.config, { ...baseLayerFields, scale: scalar, offset: scalar }, context),
}));

registerTranslator(['CenterCrop'], (layer, context) => ({
  class_name: 'KerasCenterCrop',
  config: translateFields(
    layer.config,
    {
      ...baseLayerFields,
      height: copy,
      width: copy,
      data_format: droppedAtDefault(isChannelsLast, 'channels_first images are not converted'),
    },
    context,
  ),
}));

registerTranslator(['Resizing'], (layer, context) => ({
  class_name: 'KerasResizing',
  config: translateFields(
    layer.config,
    {
      ...baseLayerFields,
      height: copy,
      width: copy,
      interpolation: interpolationRule,
      crop_to_aspect_ratio: droppedAtDefault(isFalse, 'cropping to the aspect ratio is not converted'),
      pad_to_aspect_ratio: droppedAtDefault(isFalse, 'padding to the aspect ratio is not converted'),
      fill_mode: droppedAtDefault(() => true, 'only used with pad_to_aspect_ratio'),
      fill_value: droppedAtDefault(() => true, 'only used with pad_to_aspect_ratio'),
      antialias: droppedAtDefault(isFalse, 'antialiased resizing is not converted'),
      data_format: droppedAtDefault(isChannelsLast, 'channels_first images are not converted'),
    },
    context,
  ),
}));

const interpolationRule: FieldRule = (value, context, field) => {
  if (value !== 'nearest' && value !== 'bilinear') {
    throw new UnsupportedLayerError(`${context.where(field)}: interpolation ${JSON.stringify(value)} is not converted (bilinear or nearest).`);
  }
  return { key: field, value };
};

/** Keras 3's output modes keras-bridge's CategoryEncoding computes (tf_idf needs a vocabulary's weights). */
const outputMode: FieldRule = (value, context, field) => {
  if (value !== 'multi_hot' && value !== 'one_hot' && value !== 'count') {
    throw new UnsupportedLayerError(`${context.where(field)}: output_mode ${JSON.stringify(value)} is not converted (multi_hot, one_hot, count).`);
  }
  return { key: field, value };
};

registerTranslator(['CategoryEncoding'], (layer, context) => ({
  class_name: 'KerasCategoryEncoding',
  config: translateFields(
    layer.config,
    { ...baseLayerFields, num_tokens: copy, output_mode: outputMode, sparse: droppedAtDefault(isFalse, 'tfjs-layers has no sparse outputs') },
    context,
  ),
}));

// Keras 3's Normalization (a preprocessing layer), which tfjs-layers lacks: keras-bridge's KerasNormalization.
registerTranslator(['Normalization'], to('KerasNormalization', { axis: copy, mean: copy, variance: copy, invert: copy }));
