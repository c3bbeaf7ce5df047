import { UnsupportedLayerError } from '../errors.js';
import { isKerasObject } from '../keras/keras-object.js';
import type { FieldRule } from './field-rules.js';

const SUPPORTED_DTYPES = new Set(['float32', 'int32', 'bool', 'string']);

/**
 * Keras 3 writes `dtype` as a DTypePolicy object; tfjs wants a dtype string. Only float32
 * policies are accepted: mixed precision would need float16 compute that tfjs-layers lacks.
 */
export const dtypePolicy: FieldRule = (value, context, field) => {
  if (value === null || value === undefined) return { key: field, value: null };
  const name = isKerasObject(value) ? value.config['name'] : value;
  if (typeof name !== 'string' || !SUPPORTED_DTYPES.has(name)) {
    throw new UnsupportedLayerError(
      `${context.where(field)}: dtype policy ${JSON.stringify(name)} is not supported; ` +
        `keras-bridge converts float32 models (set the layer or global policy to 'float32' before exporting).`,
    );
  }
  if (isKerasObject(value)) {
    context.changed(field, `DTypePolicy(${name})`, name, 'tfjs-layers takes a dtype string, not a policy object');
  }
  return { key: field, value: name };
};
