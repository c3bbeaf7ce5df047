import { baseLayerFields } from '../base-layer-fields.js';
import { copy, translateFields } from '../field-rules.js';
import { registerTranslator } from '../translator-registry.js';
import { to } from '../class-translator.js';
import '../../layers/keras3/subtract.js';

// Element-wise merges: Keras 3 and tfjs-layers agree on these, with no fields of their own.
for (const className of ['Add', 'Multiply', 'Average', 'Maximum', 'Minimum']) {
  registerTranslator([className], (layer, context) => ({
    class_name: className,
    config: translateFields(layer.config, baseLayerFields, context),
  }));
}

registerTranslator(['Concatenate'], (layer, context) => ({
  class_name: 'Concatenate',
  config: translateFields(layer.config, { ...baseLayerFields, axis: copy }, context),
}));

registerTranslator(['Dot'], (layer, context) => ({
  class_name: 'Dot',
  config: translateFields(layer.config, { ...baseLayerFields, axes: copy, normalize: copy }, context),
}));

// tfjs-layers has no Subtract: keras-bridge's KerasSubtract (src/layers/keras3).
registerTranslator(['Subtract'], to('KerasSubtract', {}));
