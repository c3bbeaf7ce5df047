import type * as tf from '@tensorflow/tfjs';
import { isTensorflowBackend, type TensorflowHandle } from './tensorflow-op.js';

/** More distinct operands than a model asks for (ResNet50's forward and backward: under 100); past it the cache starts over. */
const MAX_OPERANDS = 1024;

const operandsByBackend = new WeakMap<object, Map<string, TensorflowHandle>>();

/**
 * An int32 vector (a shape, a permutation, reduction axes) as an operand of a TensorFlow op, made
 * once per backend and kept. tfjs-node's Reshape, Transpose and reductions make theirs on every
 * call through the engine (tensor1d, then dispose): measured, a Reshape took 29 µs that way and
 * 14 µs with a kept operand, and the Transformer block's forward and backward passes run 107.
 * The operand is a TensorFlow handle only, outside both tfjs's engine and tfjs-node's tensor map
 * (no count of tensors or buffers sees it); ops never write their inputs, so one serves every call.
 */
export function int32Operand(backend: tf.KernelBackend, values: readonly number[]): TensorflowHandle {
  if (!isTensorflowBackend(backend)) throw new Error('int32Operand: TensorFlow handles exist only on the tensorflow backend (tfjs-node)');
  let operands = operandsByBackend.get(backend);
  if (!operands) {
    operands = new Map();
    operandsByBackend.set(backend, operands);
  }
  const key = values.join(',');
  let operand = operands.get(key);
  if (!operand) {
    const { binding } = backend;
    if (operands.size >= MAX_OPERANDS) {
      for (const old of operands.values()) binding.deleteTensor(old.tensorflowHandle);
      operands.clear();
    }
    operand = { tensorflowHandle: binding.createTensor([values.length], binding.TF_INT32, Int32Array.from(values)) };
    operands.set(key, operand);
  }
  return operand;
}
