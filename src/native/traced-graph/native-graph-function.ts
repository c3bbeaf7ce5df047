import type * as tf from '@tensorflow/tfjs';
import { traceNativeGraph, type TracedNativeGraph, type TraceNativeGraphOptions } from './traced-native-graph.js';

/** A function run as traced native graphs, one per input signature (shapes and dtypes), traced on first use: tf.function's model. */
export interface NativeGraphFunction {
  (inputs: readonly tf.Tensor[]): tf.Tensor[];
  /** The graphs held now, by input signature ("float32[1,224,224,3]"), least recently used first. */
  readonly graphs: ReadonlyMap<string, TracedNativeGraph>;
  dispose(): void;
}

export interface NativeGraphFunctionOptions extends TraceNativeGraphOptions {
  /** Graphs kept at most; past it the least recently used is disposed (default 8). Each holds its constants (frozen weights). */
  maxGraphs?: number;
}

/**
 * `run` as a function that traces a native graph (traceNativeGraph) the first time it sees an
 * input signature and runs that graph from then on: a converted model's predict called at a few
 * batch sizes costs one trace each. Throws TraceError where `run` cannot be traced.
 */
export function nativeGraphFunction(run: (inputs: readonly tf.Tensor[]) => tf.Tensor[], options: NativeGraphFunctionOptions = {}): NativeGraphFunction {
  const maxGraphs = options.maxGraphs ?? 8;
  if (!Number.isInteger(maxGraphs) || maxGraphs < 1) throw new RangeError(`maxGraphs must be a whole number of at least 1, got ${maxGraphs}`);
  const graphs = new Map<string, TracedNativeGraph>();
  const call = (inputs: readonly tf.Tensor[]): tf.Tensor[] => {
    const key = inputs.map((x) => `${x.dtype}[${x.shape.join(',')}]`).join(' ');
    let graph = graphs.get(key);
    if (graph) {
      // Most recently used last.
      graphs.delete(key);
    } else {
      graph = traceNativeGraph(run, inputs, options);
      if (graphs.size >= maxGraphs) {
        const [oldestKey, oldest] = graphs.entries().next().value as [string, TracedNativeGraph];
        graphs.delete(oldestKey);
        oldest.dispose();
      }
    }
    graphs.set(key, graph);
    return graph.execute(inputs);
  };
  return Object.assign(call, {
    graphs,
    dispose: () => {
      for (const graph of graphs.values()) graph.dispose();
      graphs.clear();
    },
  });
}
