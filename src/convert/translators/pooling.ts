import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, isFalse, isNullish, translateFields, type FieldRule } from '../field-rules.js';
import { registerTranslator, type LayerTranslator } from '../translator-registry.js';
import '../../layers/keras3/index.js';

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

/**
 * Global pooling: tfjs-layers' classes where they compute the Keras layer (1D channels_last or 2D,
 * keepdims off), keras-bridge's KerasGlobal*Pooling otherwise (keepdims, 1D channels_first, 3D).
 * GlobalAveragePooling1D is always ours: Keras leaves masked steps out of its mean, and tfjs-layers'
 * ignores the mask without a word (a mask may reach it from any upstream layer, so the config
 * cannot tell).
 */
function globalPooling(tfjsClass: string | undefined, ours: string, tfjsHasDataFormat: boolean): LayerTranslator {
  return (layer, context) => {
    const keepdims = !isFalse(layer.config['keepdims']);
    const tfjsComputesIt = tfjsClass !== undefined && !keepdims && (tfjsHasDataFormat || isChannelsLast(layer.config['data_format']));
    if (tfjsComputesIt) {
      return {
        class_name: tfjsClass,
        config: translateFields(layer.config, { ...baseLayerFields, data_format: tfjsHasDataFormat ? copy : channelsLastOnly, keepdims: noKeepdims }, context),
      };
    }
    return { class_name: ours, config: translateFields(layer.config, { ...baseLayerFields, data_format: copy, keepdims: copy }, context) };
  };
}

registerTranslator(['GlobalAveragePooling1D'], globalPooling(undefined, 'KerasGlobalAveragePooling', false));
registerTranslator(['GlobalMaxPooling1D'], globalPooling('GlobalMaxPooling1D', 'KerasGlobalMaxPooling', false));
registerTranslator(['GlobalAveragePooling2D'], globalPooling('GlobalAveragePooling2D', 'KerasGlobalAveragePooling', true));
registerTranslator(['GlobalMaxPooling2D'], globalPooling('GlobalMaxPooling2D', 'KerasGlobalMaxPooling', true));
registerTranslator(['GlobalAveragePooling3D'], globalPooling(undefined, 'KerasGlobalAveragePooling', true));
registerTranslator(['GlobalMaxPooling3D'], globalPooling(undefined, 'KerasGlobalMaxPooling', true));
