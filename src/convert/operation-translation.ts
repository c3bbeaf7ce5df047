import { UnsupportedLayerError } from '../errors.js';
import type { KerasObject } from '../keras/keras-object.js';
import type { ArgumentTemplate } from '../layers/operations/operation-arguments.js';
import { findOperation, operationName, registeredOperations } from '../layers/operations/operation-registry.js';
import '../layers/operations/keras-operation-layer.js';
import type { TranslationContext } from './translation-context.js';
import type { TfjsLayerConfig } from './translator-registry.js';

export function isOperationNode(layer: KerasObject): boolean {
  return operationName(layer.module, layer.class_name) !== undefined;
}

/**
 * A Keras operation node (`x + y`, `keras.ops.*` on symbolic tensors) becomes our KerasOperation
 * layer. Its positional arguments are kept as a template whose tensor slots are filled with the
 * layer's inputs, which functional-graph.ts lists in the same argument order.
 */
export function translateOperation(layer: KerasObject, context: TranslationContext, args: unknown[]): TfjsLayerConfig {
  const operation = operationName(layer.module, layer.class_name)!;
  if (!findOperation(operation)) {
    throw new UnsupportedLayerError(
      `${context.where()}: Keras operation '${layer.module}.${layer.class_name}' is not supported yet ` +
        `(supported: ${registeredOperations().join(', ')}).`,
    );
  }
  const { name, ...operationConfig } = layer.config;
  let next = 0;
  const template = (value: unknown): ArgumentTemplate => {
    if (Array.isArray(value)) return value.map(template);
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
    const object = value as { class_name?: string; config?: Record<string, unknown> };
    if (object.class_name === '__keras_tensor__') return { tensor: next++ };
    if (object.class_name === '__slice__') {
      const c = object.config ?? {};
      return { slice: [c['start'] ?? null, c['stop'] ?? null, c['step'] ?? null] as [number | null, number | null, number | null] };
    }
    throw new UnsupportedLayerError(`${context.where('args')}: operation argument ${JSON.stringify(value)} is not supported yet.`);
  };
  return {
    class_name: 'KerasOperation',
    config: { name, operation, operation_config: operationConfig, arguments: args.map(template) },
  };
}
