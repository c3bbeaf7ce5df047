import tf from '#tfjs';
import { base64ToBytes, decodeSpec, type GraphLayerSpec, type GraphModelSpec } from './graph-spec.js';
import { registerGraphOpFixes } from './graph-op-fixes.js';
import { UnsupportedLayerError, UnsupportedLayerFieldError } from '../../errors.js';
import { badField, unsupportedField } from '../layer-errors.js';

export interface KerasBridgeGraphLayerArgs {
  name?: string;
  trainable?: boolean;
  /** The GraphLayerSpec, base64 JSON (graph-spec.ts says why). */
  graph: string;
}

/** A graph as tfjs-converter's GraphModel, from the in-memory spec. */
export function loadGraph(spec: GraphModelSpec): tf.GraphModel<tf.io.IOHandlerSync> {
  registerGraphOpFixes();
  const data = base64ToBytes(spec.weightData);
  const model = tf.loadGraphModelSync({
    modelTopology: spec.topology,
    format: 'graph-model',
    weightSpecs: spec.weightSpecs,
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
  });
  // The layer loads its graph on first call, inside tfjs-layers' tidy: its constants must outlive it.
  for (const tensors of Object.values(model.weights)) for (const t of tensors) tf.keep(t);
  return model;
}

/**
 * Route 3 of issue 11 (docs/custom-layer-routes.md): a custom layer whose call() was traced by the
 * exporter into a TensorFlow graph (python/keras_bridge/graph_fallback.py), run by
 * tfjs-converter's executor. The layer holds its weights (its own and its sub-layers', named by
 * their Keras path below the layer, so they pair with the bundle's by name) and feeds them to the
 * graph's weight Placeholders at every call: the executor runs tfjs ops, which the tape records,
 * so tf.grad and training differentiate through the graph to the inputs and the weights.
 */
export class KerasBridgeGraphLayer extends tf.layers.Layer {
  static readonly className = 'KerasBridgeGraphLayer';
  readonly spec: GraphLayerSpec;
  private readonly encoded: string;
  private graphs: { inference: tf.GraphModel<tf.io.IOHandlerSync>; training?: tf.GraphModel<tf.io.IOHandlerSync> } | undefined;
  private graphWeights: tf.LayerVariable[] = [];

  constructor(args: KerasBridgeGraphLayerArgs) {
    super({ name: args.name, trainable: args.trainable });
    this.encoded = args.graph;
    this.spec = decodeSpec(args.graph);
  }

  override build(): void {
    this.graphWeights = this.spec.weights.map((w) => this.addWeight(w.name, w.shape, w.dtype, tf.initializers.zeros(), undefined, w.trainable));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean } & Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const graphs = (this.graphs ??= {
      inference: loadGraph(this.spec.graphs.inference),
      ...(this.spec.graphs.training ? { training: loadGraph(this.spec.graphs.training) } : {}),
    });
    const graph = kwargs?.training && graphs.training ? graphs.training : graphs.inference;
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    const feed: tf.NamedTensorMap = {};
    // Positional inputs in order; keyword ones from call()'s kwargs (a KerasBridgeCallArguments adapter passes them).
    let positional = 0;
    for (const io of this.spec.inputs) {
      const value = io.keyword === undefined ? xs[positional++] : kwargs?.[io.keyword];
      if (!(value instanceof tf.Tensor)) {
        throw badField(this, 'inputs', `graph input '${io.name}' (${io.keyword === undefined ? `positional input ${positional - 1}` : `keyword argument ${io.keyword}`}) was not given a tensor`);
      }
      feed[io.name] = value;
    }
    this.spec.weights.forEach((w, i) => (feed[w.input] = this.graphWeights[i]!.read()));
    let outputs: tf.Tensor | tf.Tensor[];
    try {
      outputs = graph.execute(feed, this.spec.outputs.map((o) => o.name));
    } catch (e) {
      // An op of the traced graph we do not run (graph-op-fixes.ts) names this layer.
      if (e instanceof UnsupportedLayerError && !(e instanceof UnsupportedLayerFieldError)) throw unsupportedField(this, 'graph', e.message);
      throw e;
    }
    return Array.isArray(outputs) && outputs.length === 1 ? outputs[0]! : outputs;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const batch = (Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape) : (inputShape as tf.Shape))[0] ?? null;
    const shapes = this.spec.outputs.map((o) => [batch, ...o.shape.slice(1)]);
    return shapes.length === 1 ? shapes[0]! : shapes;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), graph: this.encoded };
  }
}
tf.serialization.registerClass(KerasBridgeGraphLayer);
