import { dtypePolicy } from './dtype-policy.js';
import { copy, type FieldRule } from './field-rules.js';

/** Fields every Keras 3 layer config carries, and how tfjs-layers takes them. */
export const baseLayerFields: Record<string, FieldRule> = {
  name: copy,
  trainable: copy,
  dtype: dtypePolicy,
};
