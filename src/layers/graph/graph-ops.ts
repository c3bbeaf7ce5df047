import type * as tf from '@tensorflow/tfjs';

/** Ops that run Python at call time (tf.py_function, tf.numpy_function): no graph runtime but Python's runs them. */
export const PYTHON_ONLY_OPS = new Set(['EagerPyFunc', 'PyFunc', 'PyFuncStateless']);

interface ExecutorNode {
  op: string;
  category?: string;
}

/**
 * The op types of a loaded graph that tfjs-converter has no implementation of: its executor
 * gives every node the category of its op mapper (or 'custom' for tf.registerOp ops) and has none
 * for an op it does not know. Read from the executor itself, so the answer is the converter's own
 * op list, whatever its version.
 */
export function opsTfjsCannotRun(model: tf.GraphModel<tf.io.IOHandlerSync>): string[] {
  const graph = (model as unknown as { executor?: { graph?: { nodes?: Record<string, ExecutorNode> } } }).executor?.graph;
  if (!graph?.nodes) throw new Error('tfjs-converter GraphModel: no executor graph to read the op categories from (its internals changed)');
  return [...new Set(Object.values(graph.nodes).filter((n) => !n.category).map((n) => n.op))].sort();
}
