import { UnsupportedLayerError } from '../errors.js';
import { isKerasObject } from '../keras/keras-object.js';
import { KERAS3_ACTIVATIONS } from '../layers/keras3/activations/index.js';
import type { FieldRule } from './field-rules.js';

/**
 * Keras 3 activation names whose tfjs-layers activation computes the same function. The rest
 * come from KERAS3_ACTIVATIONS (our implementations); names in neither are refused rather than
 * approximated: e.g. Keras 3's hard_sigmoid is relu6(x + 3) / 6 while tfjs's is
 * clip(0.2x + 0.5, 0, 1), so 'hard_sigmoid' maps to ours, never to tfjs's 'hardSigmoid'.
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
  // The name 'gelu' is Keras's approximate=False: x/2 * (1 + erf(x/√2)), as tfjs's 'gelu'.
  // tfjs's 'gelu_new' is the tanh form, which no Keras activation name selects.
  gelu: 'gelu',
  log_softmax: 'logSoftmax',
};

export function tfjsActivationFor(kerasName: string): string | undefined {
  return SAME_FUNCTION_IN_TFJS[kerasName] ?? KERAS3_ACTIVATIONS[kerasName]?.className;
}

export function supportedActivations(): string[] {
  return [...Object.keys(SAME_FUNCTION_IN_TFJS), ...Object.keys(KERAS3_ACTIVATIONS)].sort();
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
  if (tfjsName !== kerasName) context.changed(field, kerasName, tfjsName, reasonFor(kerasName as string));
  return { key: field, value: tfjsName };
};

function reasonFor(kerasName: string): string {
  return kerasName in SAME_FUNCTION_IN_TFJS
    ? 'same function under its tfjs name'
    : "Keras 3's function, implemented by keras-bridge (load with 'keras-bridge/layers/keras3' imported)";
}
