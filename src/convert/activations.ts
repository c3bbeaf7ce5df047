import { UnsupportedLayerError } from '../errors.js';
import { isKerasObject } from '../keras/keras-object.js';
import type { FieldRule } from './field-rules.js';

/**
 * Keras 3 activation names whose tfjs-layers activation computes the same function.
 * Names absent here are refused rather than approximated: e.g. Keras 3's hard_sigmoid is
 * relu6(x + 3) / 6 while tfjs's is clip(0.2x + 0.5, 0, 1).
 */
const SAME_FUNCTION_IN_TFJS: Record<string, string> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  softplus: 'softplus',
  softsign: 'softsign',
  elu: 'elu',
  selu: 'selu',
  swish: 'swish',
  silu: 'swish',
  mish: 'mish',
};

export function tfjsActivationFor(kerasName: string): string | undefined {
  return SAME_FUNCTION_IN_TFJS[kerasName];
}

export function supportedActivations(): string[] {
  return Object.keys(SAME_FUNCTION_IN_TFJS).sort();
}

export const activation: FieldRule = (value, context, field) => {
  const kerasName = isKerasObject(value) ? value.class_name : value ?? 'linear';
  const tfjsName = typeof kerasName === 'string' ? tfjsActivationFor(kerasName) : undefined;
  if (!tfjsName) {
    throw new UnsupportedLayerError(
      `${context.where(field)}: activation ${JSON.stringify(kerasName)} has no exact tfjs equivalent yet ` +
        `(supported: ${supportedActivations().join(', ')}).`,
    );
  }
  if (tfjsName !== kerasName) context.changed(field, kerasName, tfjsName, 'same function under its tfjs name');
  return { key: field, value: tfjsName };
};
