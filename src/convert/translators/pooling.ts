import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, isFalse, isNullish, translateFields, type FieldRule } from '../field-rules.js';
import { registerTranslator } from '../translator-registry.js';

// Keras 3 and tfjs-layers pool the same way, 'same' average pooling included (both divide by the
// number of in-bounds elements). tfjs-layers' 1D layers have no data_format: they pool axis 1.

const isChannelsLast = (value: unknown): boolean => value === 'channels_last' || isNullish(value);
const channelsLastOnly = droppedAtDefault(isChannelsLast, 'tfjs-layers 1D pooling layers compute channels_last only');
const noKeepdims = droppedAtDefault(isFalse, 'tfjs-layers global pooling layers have no keepdims');

const windowFields: Record<string, FieldRule> = { ...baseLayerFields, pool_size: copy, strides: copy, padding: copy };

registerTranslator(['MaxPooling1D', 'AveragePooling1D'], (layer, context) => ({
  class_name: layer.class_name,
  config: translateFields(layer.config, { ...windowFields, data_format: channelsLastOnly }, context),
}));

registerTranslator(['MaxPooling2D', 'AveragePooling2D', 'MaxPooling3D', 'AveragePooling3D'], (layer, context) => ({
  class_name: layer.class_name,
  config: translateFields(layer.config, { ...windowFields, data_format: copy }, context),
}));

registerTranslator(['GlobalAveragePooling1D', 'GlobalMaxPooling1D'], (layer, context) => ({
  class_name: layer.class_name,
  config: translateFields(layer.config, { ...baseLayerFields, data_format: channelsLastOnly, keepdims: noKeepdims }, context),
}));

registerTranslator(['GlobalAveragePooling2D', 'GlobalMaxPooling2D'], (layer, context) => ({
  class_name: layer.class_name,
  config: translateFields(layer.config, { ...baseLayerFields, data_format: copy, keepdims: noKeepdims }, context),
}));
