import { UnsupportedLayerError } from '../../errors.js';
import type { KerasObject } from '../../keras/keras-object.js';
import { to, trainingLossOnly, weightFields } from '../class-translator.js';
import { copy, droppedAtDefault, isFalse, type FieldRule } from '../field-rules.js';
import type { TranslationContext } from '../translation-context.js';
import { registerTranslator, type TfjsLayerConfig } from '../translator-registry.js';
import '../../layers/keras3/multi-head-attention.js';
import '../../layers/keras3/attention.js';
import '../../layers/keras3/additive-attention.js';

// Keras 3's attention layers, which tfjs-layers lacks, to keras-bridge's (src/layers/keras3).

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
