import { UnsupportedLayerError } from '../errors.js';
import { isKerasObject } from '../keras/keras-object.js';
import { findCustomActivation } from '../registry/custom-activation-registry.js';
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
  const kerasName = activationName(value);
  const builtin = typeof kerasName === 'string' ? tfjsActivationFor(kerasName) : undefined;
  if (builtin) {
    if (builtin !== kerasName) context.changed(field, kerasName, builtin, reasonFor(kerasName as string));
    return { key: field, value: builtin };
  }
  const custom = typeof kerasName === 'string' ? findCustomActivation(kerasName) : undefined;
  if (custom) {
    context.changed(field, kerasName, custom.className, 'custom activation, implemented by the registerActivation() of a --custom-layers module');
    return { key: field, value: custom.className };
  }
  if (isSerializedFunction(value)) {
    throw new UnsupportedLayerError(
      `${context.where(field)}: activation '${value.config}' is a custom Python function with no TypeScript implementation ` +
        `registered. Register one with registerActivation('${value.config}', (x) => ...) from 'keras-bridge' in a module ` +
        `you pass with --custom-layers (see README, "Your own model").`,
    );
  }
  throw new UnsupportedLayerError(
    `${context.where(field)}: activation ${JSON.stringify(kerasName)} has no exact tfjs equivalent yet ` +
      `(supported: ${supportedActivations().join(', ')}; a custom function can be registered with registerActivation()).`,
  );
};

/**
 * The activation's name: a string ('relu'), or Keras 3's serialized function
 * ({class_name: 'function', config: 'package>name'}) for a Python function, or a serialized
 * object's class name.
 */
function activationName(value: unknown): unknown {
  if (isSerializedFunction(value)) return value.config;
  return isKerasObject(value) ? value.class_name : value ?? 'linear';
}

function isSerializedFunction(value: unknown): value is { class_name: 'function'; config: string } {
  const object = value as { class_name?: unknown; config?: unknown } | null;
  return typeof object === 'object' && object?.class_name === 'function' && typeof object.config === 'string';
}

function reasonFor(kerasName: string): string {
  return kerasName in SAME_FUNCTION_IN_TFJS
    ? 'same function under its tfjs name'
    : "Keras 3's function, implemented by keras-bridge (load with 'keras-bridge/layers/keras3' imported)";
}
