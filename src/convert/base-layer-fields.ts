import { dtypePolicy } from './dtype-policy.js';
import { copy, type FieldRule } from './field-rules.js';

// Only mixed-precision policies cast inputs; the converted model is float32 throughout.
const autocast: FieldRule = (value, context, field) => {
  context.dropped(field, 'casts inputs only under mixed-precision dtype policies; tfjs runs float32', value);
  return undefined;
};

const activityRegularizer: FieldRule = (value, context, field) => {
  context.dropped(field, 'an activity regularizer only adds a training loss, which parity does not compare', value);
  return undefined;
};

/**
 * Fields Keras 3's base Layer writes into a layer's config (`autocast` and `activity_regularizer`
 * when the config is Keras's automatic one, from Layer.__init__'s keyword arguments), and how
 * tfjs-layers takes them.
 */
export const baseLayerFields: Record<string, FieldRule> = {
  name: copy,
  trainable: copy,
  dtype: dtypePolicy,
  autocast,
  activity_regularizer: activityRegularizer,
};
