import tf from '#tfjs';
import type { Bundle } from '../keras/bundle.js';
import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { TFJS_MODEL_NODE_OFFSET } from '../convert/functional-graph.js';
import { InputError } from '../errors.js';
import { findLayer, goldenKey, read, type ComputedTensor } from './evaluate-model.js';

type GradLayerOutputGolden = Extract<GoldenTensorRecord, { kind: 'grad_layer_output' }>;
type LayerCall = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

let nextAnchorId = 0;

/**
 * dL/dy of layer outputs inside the whole tfjs model's backward pass, for the grad_layer_output
 * goldens: the end-to-end counterpart of the layer-isolated backward check. The TypeScript twin of
 * the exporter's taps (python/keras_bridge/layer_gradients.py): while installed, a tapped layer's
 * `call`, when it computes the golden's node, passes its outputs through an identity whose custom
 * gradient keeps what the backward pass sends into it: the gradient summed over every consumer,
 * exactly what Keras recorded. Each identity also takes a zero scalar variable (`anchor`, to be
 * differentiated along with the rest), so that tfjs keeps it on the tape even where nothing
 * upstream is differentiated (after integer inputs).
 *
 * Which node a call computes is found from where its inputs came from, not from call order
 * (tfjs's executor orders a shared layer's calls its own way): every layer's call is wrapped to
 * note which symbolic tensors its concrete outputs stand for, starting from the model's inputs
 * (feed()), and a call computes the node of that layer whose input tensors its inputs stand for.
 */
export class LayerOutputTaps {
  /** Differentiate with respect to this too; its gradient is zero. */
  readonly anchor: tf.Variable;
  private readonly captured = new Map<string, tf.Tensor | null>();
  private readonly restore: Array<() => void> = [];
  /** Concrete tensor id -> ids of the symbolic tensors it stands for (an identity layer returns its input). */
  private readonly standsFor = new Map<number, Set<number>>();

  constructor(
    private readonly model: tf.LayersModel,
    private readonly bundle: Bundle,
    private readonly goldens: readonly GradLayerOutputGolden[],
  ) {
    // tf.variable shares its initial tensor's data; tidy lets that tensor go once the variable holds it.
    this.anchor = tf.tidy(() => tf.variable(tf.scalar(0), true, `keras_bridge_layer_output_tap_${nextAnchorId++}`));
  }

  static of(model: tf.LayersModel, bundle: Bundle, goldens: readonly GoldenTensorRecord[]): LayerOutputTaps | null {
    const taps = goldens.filter((g): g is GradLayerOutputGolden => g.kind === 'grad_layer_output');
    return taps.length > 0 ? new LayerOutputTaps(model, bundle, taps) : null;
  }

  /** Wraps every layer's call until uninstall(). */
  install(): void {
    const tapsOf = new Map<tf.layers.Layer, Map<SymbolicNode, GradLayerOutputGolden[]>>();
    for (const g of this.goldens) {
      const layer = findLayer(this.model, g.layer, this.bundle);
      const node = layer.inboundNodes[g.node + (layer instanceof tf.LayersModel ? TFJS_MODEL_NODE_OFFSET : 0)] as unknown as SymbolicNode | undefined;
      if (!node) throw new InputError(`${this.bundle.dir}: output gradient golden for layer '${g.layer}' names node ${g.node}, which the converted layer does not have.`);
      const byNode = tapsOf.get(layer) ?? new Map<SymbolicNode, GradLayerOutputGolden[]>();
      byNode.set(node, [...(byNode.get(node) ?? []), g]);
      tapsOf.set(layer, byNode);
    }
    for (const layer of this.model.layers) this.wrap(layer, tapsOf.get(layer) ?? new Map());
  }

  /** The concrete tensors about to be fed to the model, in the order of model.inputs. */
  feed(inputs: readonly tf.Tensor[]): void {
    this.standsFor.clear();
    inputs.forEach((x, i) => this.note(x, this.model.inputs[i]!));
  }

  /** dL/dy for every golden, keyed by goldenKey(); zeros where the backward pass sent nothing (the output does not reach the loss). */
  async gradients(): Promise<Map<string, ComputedTensor>> {
    const results = new Map<string, ComputedTensor>();
    for (const g of this.goldens) {
      const key = goldenKey(g);
      if (!this.captured.has(key)) {
        throw new InputError(`${this.bundle.dir}: layer '${g.layer}' did not compute output ${g.index} of node ${g.node} during the gradient pass, so its output gradient cannot be tapped.`);
      }
      const grad = this.captured.get(key);
      results.set(key, grad ? await read(grad) : { shape: [...g.shape], values: new Float32Array(g.shape.reduce((a, b) => a * b, 1)) });
    }
    return results;
  }

  uninstall(): void {
    for (const undo of this.restore.splice(0).reverse()) undo();
    tf.dispose([...this.captured.values()].filter((t): t is tf.Tensor => t !== null));
    this.captured.clear();
    this.standsFor.clear();
    this.anchor.dispose();
  }

  private note(concrete: tf.Tensor, symbolic: tf.SymbolicTensor): void {
    const ids = this.standsFor.get(concrete.id) ?? new Set<number>();
    ids.add(symbolic.id);
    this.standsFor.set(concrete.id, ids);
  }

  /** The node of `layer` whose input tensors the concrete `inputs` stand for, if any. */
  private nodeComputed(layer: tf.layers.Layer, inputs: readonly tf.Tensor[]): SymbolicNode | undefined {
    return (layer.inboundNodes as unknown as SymbolicNode[]).find(
      (node) => node.inputTensors.length === inputs.length && node.inputTensors.every((t, i) => this.standsFor.get(inputs[i]!.id)?.has(t.id)),
    );
  }

  private wrap(layer: tf.layers.Layer, taps: ReadonlyMap<SymbolicNode, readonly GradLayerOutputGolden[]>): void {
    const holder = layer as unknown as { call: LayerCall };
    const own = Object.prototype.hasOwnProperty.call(layer, 'call') ? holder.call : undefined;
    const original = holder.call;
    holder.call = (inputs, kwargs) => {
      const outputs = original.call(layer, inputs, kwargs);
      const node = this.nodeComputed(layer, Array.isArray(inputs) ? inputs : [inputs]);
      if (!node) return outputs;
      const flat = Array.isArray(outputs) ? [...outputs] : [outputs];
      for (const g of taps.get(node) ?? []) {
        if (g.index < flat.length) flat[g.index] = this.tap(goldenKey(g), flat[g.index]!);
      }
      flat.forEach((t, i) => node.outputTensors[i] && this.note(t, node.outputTensors[i]!));
      return Array.isArray(outputs) ? flat : flat[0]!;
    };
    this.restore.push(() => {
      if (own) holder.call = own;
      else delete (layer as unknown as { call?: LayerCall }).call;
    });
  }

  private tap(key: string, y: tf.Tensor): tf.Tensor {
    const captured = this.captured;
    if (!captured.has(key)) captured.set(key, null);
    // customGrad's typing also admits its save function as an argument; ours takes two tensors.
    const identity = tf.customGrad(((x: tf.Tensor, anchor: tf.Tensor) => ({
      value: tf.clone(x),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const upstream = Array.isArray(dy) ? dy[0]! : dy;
        // tfjs's executor may compute a multi-output layer once per output it needs; each copy's
        // tap receives the gradient of that copy's uses, and Keras's dL/dy is their sum.
        const earlier = captured.get(key);
        captured.set(key, tf.keep(earlier ? tf.add(earlier, upstream) : tf.clone(upstream)));
        earlier?.dispose();
        return [upstream, tf.zerosLike(anchor)];
      },
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    return identity(y, this.anchor) as tf.Tensor;
  }
}

/** What tfjs-layers' Node holds that is read here. */
interface SymbolicNode {
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}
