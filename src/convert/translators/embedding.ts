import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, isNullish, translateFields } from '../field-rules.js';
import { constraint, initializer, regularizer } from '../keras-objects.js';
import '../../layers/keras3/mask-gradients.js';
import { registerTranslator } from '../translator-registry.js';

// The layers that start a sequence mask: Embedding(mask_zero=True) masks index 0, Masking masks
// the timesteps whose features all equal mask_value. tfjs-layers computes both masks as Keras
// does and hands them to the layers downstream (recurrent layers skip masked timesteps).

registerTranslator(['Embedding'], (layer, context) => ({
  class_name: 'Embedding',
  config: translateFields(
    layer.config,
    {
      ...baseLayerFields,
      input_dim: copy,
      output_dim: copy,
      embeddings_initializer: initializer,
      embeddings_regularizer: regularizer,
      activity_regularizer: regularizer,
      embeddings_constraint: constraint,
      mask_zero: copy,
      // Keras 2 configs only; Keras 3 infers the sequence length from the input.
      input_length: copy,
      lora_rank: droppedAtDefault(
        isNullish,
        'LoRA adapters are not converted; merge them into the embeddings (embeddings + a @ b * lora_alpha / lora_rank) before exporting',
      ),
      lora_alpha: droppedAtDefault(() => true, 'only used with lora_rank'),
      quantization_config: droppedAtDefault(isNullish, 'quantized Embedding layers are not converted'),
    },
    context,
  ),
}));

registerTranslator(['Masking'], (layer, context) => ({
  class_name: 'Masking',
  config: translateFields(layer.config, { ...baseLayerFields, mask_value: copy }, context),
}));
