import type * as tf from '@tensorflow/tfjs';

/**
 * A Keras 3 operation applied to symbolic tensors in a functional model (`x + y`,
 * `keras.ops.mean(x, axis=1)`), which Keras serializes as a node of class e.g. `Mean` in module
 * `keras.src.ops.numpy`. `args` holds the call's positional arguments with tensors substituted;
 * `config` is the operation's Keras config (axis, keepdims, ...), keys in either case.
 */
export type OperationImpl = (args: unknown[], config: OperationConfig) => tf.Tensor;

export interface OperationConfig {
  /** Reads a field by its Keras (snake_case) name; tfjs may have camelCased it. */
  get(snakeName: string): unknown;
}

const operations = new Map<string, OperationImpl>();

/** `name` is the Keras module's last part and the class: 'numpy.Mean', 'nn.Relu', 'core.Cast'. */
export function registerOperation(name: string, impl: OperationImpl): void {
  operations.set(name, impl);
}

export function findOperation(name: string): OperationImpl | undefined {
  return operations.get(name);
}

export function registeredOperations(): string[] {
  return [...operations.keys()].sort();
}

/** 'keras.src.ops.numpy' + 'Mean' → 'numpy.Mean'; undefined for modules that are not Keras ops. */
export function operationName(module: string | null | undefined, className: string): string | undefined {
  const match = /^keras(?:\.src)?\.ops\.(\w+)$/.exec(module ?? '');
  return match ? `${match[1]}.${className}` : undefined;
}
