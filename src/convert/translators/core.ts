import { activation } from '../activations.js';
import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, isFalse, isNullish, rename, translateFields } from '../field-rules.js';
import { constraint, initializer, regularizer } from '../keras-objects.js';
import { registerTranslator } from '../translator-registry.js';
import { to, trainingLossOnly, weightFields } from '../class-translator.js';
import '../../layers/keras3/einsum-dense.js';

registerTranslator(['InputLayer'], (layer, context) => ({
  class_name: 'InputLayer',
  config: translateFields(
    layer.config,
    {
      ...baseLayerFields,
      batch_shape: rename('batch_input_shape'),
      batch_input_shape: copy,
      sparse: droppedAtDefault(isFalse, 'tfjs-layers has no sparse inputs'),
      ragged: droppedAtDefault(isFalse, 'tfjs-layers has no ragged inputs'),
      optional: droppedAtDefault(isFalse, 'tfjs-layers has no optional inputs'),
    },
    context,
  ),
}));

registerTranslator(['Dense'], (layer, context) => ({
  class_name: 'Dense',
  config: translateFields(
    layer.config,
    {
      ...baseLayerFields,
      units: copy,
      activation,
      use_bias: copy,
      kernel_initializer: initializer,
      bias_initializer: initializer,
      kernel_regularizer: regularizer,
      bias_regularizer: regularizer,
      activity_regularizer: regularizer,
      kernel_constraint: constraint,
      bias_constraint: constraint,
      lora_rank: droppedAtDefault(isNullish, 'LoRA adapters are not converted'),
      lora_alpha: droppedAtDefault(() => true, 'only used with lora_rank'),
      quantization_config: droppedAtDefault(isNullish, 'quantized Dense layers are not converted'),
    },
    context,
  ),
}));

registerTranslator(['Activation'], (layer, context) => ({
  class_name: 'Activation',
  config: translateFields(layer.config, { ...baseLayerFields, activation }, context),
}));

registerTranslator(['Dropout'], (layer, context) => ({
  class_name: 'Dropout',
  config: translateFields(
    layer.config,
    { ...baseLayerFields, rate: copy, noise_shape: copy, seed: copy },
    context,
  ),
}));

registerTranslator(['Flatten'], (layer, context) => ({
  class_name: 'Flatten',
  config: translateFields(layer.config, { ...baseLayerFields, data_format: copy }, context),
}));

// Keras 3's Identity is tfjs's linear Activation.
registerTranslator(['Identity'], (layer, context) => ({
  class_name: 'Activation',
  config: { ...translateFields(layer.config, baseLayerFields, context), activation: 'linear' },
}));

// Keras 3's EinsumDense, which tfjs-layers lacks: keras-bridge's KerasEinsumDense (src/layers/keras3).
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
