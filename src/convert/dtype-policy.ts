import { UnsupportedLayerError } from '../errors.js';
import { isKerasObject } from '../keras/keras-object.js';
import type { FieldRule } from './field-rules.js';

const SUPPORTED_DTYPES = new Set(['float32', 'int32', 'bool', 'string']);

/**
 * Integer dtypes tfjs lacks, computed as int32 (an int64 index input, a uint8 image): the parity
 * engine feeds their goldens as int32 and refuses values that do not fit (src/parity/golden-tensor.ts).
 */
const AS_INT32 = new Set(['int64', 'uint8', 'int8', 'uint16', 'int16']);

/**
 * Keras 3 writes `dtype` as a DTypePolicy object; tfjs wants a dtype string. Only float32
 * policies are accepted among floats: mixed precision would need float16 compute that tfjs-layers
 * lacks. Integer and bool dtypes are an input's (a bool mask, int indices).
 */
export const dtypePolicy: FieldRule = (value, context, field) => {
  if (value === null || value === undefined) return { key: field, value: null };
  const name = isKerasObject(value) ? value.config['name'] : value;
  if (typeof name === 'string' && AS_INT32.has(name)) {
    context.changed(field, name, 'int32', `tfjs has no ${name} tensors; values are computed as int32`);
    return { key: field, value: 'int32' };
  }
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
