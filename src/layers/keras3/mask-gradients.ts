import tf from '#tfjs';

/**
 * Gradients tfjs-core 4.22 lacks for ops whose outputs are booleans: comparisons and logical
 * reductions. Their gradient is zero (TensorFlow registers them as not differentiable), but
 * tfjs throws "gradient function not found" when one lies between a differentiated input and
 * the loss, as in Masking, whose mask any(x != mask_value) is computed from its float input.
 * (tfjs wants float32 gradients, even for a boolean input.) Registered only where tfjs has none, so a later tfjs (or another fix) takes precedence.
 */
const BINARY = ['Equal', 'NotEqual', 'Greater', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr'];
const UNARY = ['Any', 'All', 'LogicalNot'];

function zeroGradient(kernelName: string, inputs: readonly string[]): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: [...inputs],
    gradFunc: (_dy, saved) => Object.fromEntries(inputs.map((name, i) => [name, () => tf.zeros(saved[i]!.shape, 'float32')])),
  };
}

export function registerMaskGradients(): string[] {
  const added: string[] = [];
  const configs = [...BINARY.map((k) => zeroGradient(k, ['a', 'b'])), ...UNARY.map((k) => zeroGradient(k, ['x']))];
  for (const config of configs) {
    if (tf.getGradient(config.kernelName)) continue;
    tf.registerGradient(config);
    added.push(config.kernelName);
  }
  return added;
}

registerMaskGradients();
