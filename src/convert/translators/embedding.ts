import { baseLayerFields } from '../base-layer-fields.js';
import { UnsupportedLayerError } from '../../errors.js';
import { copy, droppedAtDefault, isNullish, translateFields, type FieldRule } from '../field-rules.js';
import { constraint, initializer, regularizer } from '../keras-objects.js';
import '../../layers/keras3/mask-gradients.js';
import { registerTranslator } from '../translator-registry.js';

// The layers that start a sequence mask: Embedding(mask_zero=True) masks index 0, Masking masks
// the timesteps whose features all equal mask_value. tfjs-layers computes both masks as Keras
// does and hands them to the layers downstream (recurrent layers skip masked timesteps).

const EMBEDDING_FIELDS: Record<string, FieldRule> = {
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
};

registerTranslator(['Embedding'], (layer, context) => ({
  class_name: 'Embedding',
  config: translateFields(layer.config, EMBEDDING_FIELDS, context),
}));

const REVERSE_ONLY = 'only used by call(reverse=True), which maps vectors back to logits';

/**
 * keras.layers.ReversibleEmbedding (Keras 3.13+, the token embedding of KerasHub's language
 * backbones): an Embedding whose call(x, reverse=True) also serves as the output projection. Its
 * forward call is Embedding's, and is what tfjs's Embedding computes; a node calling it with
 * reverse=True is refused (tfjs hands a layer no per-node kwargs). Untied weights add a
 * `reverse_embeddings` variable the forward call never reads, which tfjs's Embedding would not hold.
 */
registerTranslator(['ReversibleEmbedding'], (layer, context) => {
  const nodes = (layer as unknown as { inbound_nodes?: Array<{ kwargs?: Record<string, unknown> }> }).inbound_nodes ?? [];
  const reversed = nodes.findIndex((node) => node.kwargs?.['reverse'] === true);
  if (reversed >= 0) {
    throw new UnsupportedLayerError(`${context.where(`inbound_nodes[${reversed}].kwargs.reverse`)}: call(reverse=True) (embeddings back to logits) is not converted; only the forward embedding lookup is.`);
  }
  return {
    class_name: 'Embedding',
    config: translateFields(
      layer.config,
      {
        ...EMBEDDING_FIELDS,
        tie_weights: droppedAtDefault((v) => v === true || isNullish(v), 'untied weights add a reverse_embeddings variable that tfjs Embedding does not hold'),
        reverse_dtype: droppedAtDefault(() => true, REVERSE_ONLY),
        logit_soft_cap: droppedAtDefault(() => true, REVERSE_ONLY),
      },
      context,
    ),
  };
});

registerTranslator(['Masking'], (layer, context) => ({
  class_name: 'Masking',
  config: translateFields(layer.config, { ...baseLayerFields, mask_value: copy }, context),
}));
