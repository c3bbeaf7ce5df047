import { variableGradsReleasing } from './abandoned-tape.js';
import tf from '#tfjs';
import { bundleGolden, type Bundle } from '../keras/bundle.js';
import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { InputError } from '../errors.js';
import { weightsInKerasOrder } from '../convert/weight-pairing.js';
import type { ComputedTensor } from './evaluate-model.js';
import { goldenTensor } from './golden-tensor.js';
import { describeUndifferentiable, undifferentiableOperation } from './missing-gradient.js';
import { callCounts, layerCalls, tensorKey, tensorUses, type LayerCall, type TensorRef } from './layer-inputs.js';

/** One gradient computed with a layer run alone, and the Keras golden it is compared with. */
export interface IsolatedGradientCheck {
  /** Key of the computed tensor in IsolatedGradientEvaluation.computed. */
  key: string;
  /** The layer run alone: a failure is its own backward pass's. */
  layer: string;
  /** "grad sequential/dense/kernel (isolated)", "grad into layer dense_1 from dense (isolated)" */
  label: string;
  /** grad_weight for a weight; for an input, its producer's grad_layer_output, or grad_input for a model input. */
  expected: GoldenTensorRecord;
}

/** How one layer's backward pass is replayed: inputs, output gradients, and what to compare. */
export interface LayerGradientPlan {
  layer: string;
  kwargs: Record<string, unknown>;
  /** Keras's values of the tensors it is called on (input or layer_output goldens), in call order. */
  inputs: GoldenTensorRecord[];
  /** Keras's dL/dy for each of its outputs (grad_layer_output goldens); undefined for outputs without one. */
  cotangents: Array<GoldenTensorRecord | undefined>;
  weights: Array<{ index: number; check: IsolatedGradientCheck }>;
  /**
   * The tensors it reads whose gradient Keras's goldens give on their own, with their positions in
   * `inputs` (several when the call reads one tensor more than once, as self-attention does).
   */
  inputGradients: Array<{ positions: number[]; check: IsolatedGradientCheck }>;
}

export interface IsolatedGradientPlan {
  layers: LayerGradientPlan[];
  /** Layers, or parts of them, that cannot be checked alone, with why. */
  skipped: Array<{ layer: string; reason: string }>;
  /** Why no layer can be checked (the bundle has no grad_layer_output goldens), else null. */
  unavailable: string | null;
}

export interface IsolatedGradientEvaluation {
  /** Keyed by IsolatedGradientCheck.key. */
  computed: Map<string, ComputedTensor>;
  skipped: Array<{ layer: string; reason: string }>;
  unavailable: string | null;
}

/**
 * Which layers' backward passes can be replayed alone from the bundle's goldens (layer-isolated
 * gradients): a layer is run on Keras's values of its inputs, and Keras's dL/dy of its outputs is
 * backpropagated through it. Its weight gradients are then Keras's grad_weight goldens, unless the
 * layer is called more than once (Keras sums its calls); the gradient into an input is Keras's
 * gradient of that tensor only when this call is its only use (Keras sums every use).
 */
export function planIsolatedGradients(bundle: Bundle): IsolatedGradientPlan {
  if (!bundle.manifest.goldens.tensors.some((g) => g.kind === 'grad_layer_output')) return { layers: [], skipped: [], unavailable: whyUnavailable(bundle) };
  const graph = new GoldenGraph(bundle);
  const plan: IsolatedGradientPlan = { layers: [], skipped: [], unavailable: null };
  for (const record of bundle.manifest.layers) {
    const layerPlan = planLayer(record.name, record.output_shapes.length, graph, (reason) => plan.skipped.push({ layer: record.name, reason }));
    if (layerPlan && layerPlan.weights.length + layerPlan.inputGradients.length > 0) plan.layers.push(layerPlan);
  }
  return plan;
}

/** The model's calls and tensor uses, and the goldens of each tensor's value and gradient. */
class GoldenGraph {
  readonly calls: Map<string, LayerCall>;
  readonly uses: Map<string, string[]>;
  readonly callCounts: Map<string, number>;
  private readonly goldens: GoldenTensorRecord[];
  private readonly inputIndex: Map<string, number>;

  constructor(bundle: Bundle) {
    this.calls = layerCalls(bundle.modelConfig);
    this.uses = tensorUses(bundle.modelConfig);
    this.callCounts = callCounts(bundle.modelConfig);
    this.goldens = bundle.manifest.goldens.tensors;
    this.inputIndex = new Map(bundle.manifest.inputs.map((input, i) => [input.name, i]));
  }

  /** Keras's value of a tensor: a model input's golden, or a layer output's. */
  valueOf([layer, node, tensor]: TensorRef): GoldenTensorRecord | undefined {
    const input = this.inputIndex.get(layer);
    return input !== undefined
      ? this.goldens.find((g) => g.kind === 'input' && g.index === input)
      : this.goldens.find((g) => g.kind === 'layer_output' && g.layer === layer && g.node === node && g.index === tensor);
  }

  /** Keras's dL/d(tensor), summed over its uses: grad_input for a model input, else grad_layer_output. */
  gradientOf([layer, node, tensor]: TensorRef): GoldenTensorRecord | undefined {
    const input = this.inputIndex.get(layer);
    return input !== undefined
      ? this.goldens.find((g) => g.kind === 'grad_input' && g.index === input)
      : this.goldens.find((g) => g.kind === 'grad_layer_output' && g.layer === layer && g.node === node && g.index === tensor);
  }

  weightGradients(layer: string): GoldenTensorRecord[] {
    return this.goldens.filter((g) => g.kind === 'grad_weight' && g.layer === layer);
  }

  /** How a reader names the tensor: "input x", "dense", "lstm [tensor 1]". */
  describe([layer, , tensor]: TensorRef): string {
    return this.inputIndex.has(layer) ? `input ${layer}` : `${layer}${tensor > 0 ? ` [tensor ${tensor}]` : ''}`;
  }
}

/** One layer's replay and checks, or null (with why, through `skip`) when it cannot run alone. */
function planLayer(name: string, outputs: number, graph: GoldenGraph, skip: (reason: string) => void): LayerGradientPlan | null {
  const call = graph.calls.get(name);
  if (!call || call.inputs.length === 0) return null; // input layers: nothing to run
  if (call.hasMask) {
    skip('its input carries a mask, which comes from the whole graph, not from goldens');
    return null;
  }
  const missing = call.inputs.find((ref) => !graph.valueOf(ref));
  if (missing) {
    const [producer, node] = missing;
    const why = graph.calls.get(producer)?.isOperation ? 'an operation node, which has no golden' : `call ${node} of a shared layer; goldens hold each layer's first call`;
    skip(`its input '${producer}' is ${why}`);
    return null;
  }
  const cotangents = Array.from({ length: outputs }, (_, i) => graph.gradientOf([name, 0, i]));
  if (cotangents.every((g) => !g)) {
    skip('its outputs have no grad_layer_output golden (they are not float)');
    return null;
  }
  return {
    layer: name,
    kwargs: call.kwargs,
    inputs: call.inputs.map((ref) => graph.valueOf(ref)!),
    cotangents,
    weights: weightChecks(name, graph, skip),
    inputGradients: inputGradientChecks(name, call, graph, skip),
  };
}

/** Its weight gradients are Keras's when it is called once; a shared layer's are summed over its calls. */
function weightChecks(name: string, graph: GoldenGraph, skip: (reason: string) => void): LayerGradientPlan['weights'] {
  const goldens = graph.weightGradients(name);
  const timesCalled = graph.callCounts.get(name) ?? 1;
  if (timesCalled > 1 && goldens.length > 0) {
    skip(`its weight gradients are not compared: it is called ${timesCalled} times and Keras's weight gradients sum its calls`);
    return [];
  }
  return goldens.flatMap((g) =>
    g.kind === 'grad_weight' ? [{ index: g.index, check: { key: `isolated_grad_weight:${name}:${g.index}`, layer: name, label: `grad ${g.path} (isolated)`, expected: g } }] : [],
  );
}

/** The gradient into a tensor it reads is Keras's when this call is the tensor's only use. */
function inputGradientChecks(name: string, call: LayerCall, graph: GoldenGraph, skip: (reason: string) => void): LayerGradientPlan['inputGradients'] {
  const checks: LayerGradientPlan['inputGradients'] = [];
  for (const [key, positions] of positionsByTensor(call.inputs)) {
    const ref = call.inputs[positions[0]!]!;
    const expected = graph.gradientOf(ref);
    if (!expected) continue; // an integer input or output: no gradient flows into it
    const others = otherUses(graph.uses.get(key) ?? [], name, positions.length);
    if (others.length > 0) {
      skip(`the gradient into it from ${graph.describe(ref)} is not compared: that tensor also feeds ${others.join(', ')}, and Keras's gradient sums every use`);
      continue;
    }
    const check = { key: `isolated_grad_into:${name}:${positions[0]}`, layer: name, label: `grad into layer ${name} from ${graph.describe(ref)} (isolated)`, expected };
    checks.push({ positions, check });
  }
  return checks;
}

/** Every check of a plan, in layer order, weights first. */
export function isolatedGradientChecks(plan: IsolatedGradientPlan): IsolatedGradientCheck[] {
  return plan.layers.flatMap((l) => [...l.weights.map((w) => w.check), ...l.inputGradients.map((i) => i.check)]);
}

/**
 * Layer-isolated gradients on the active backend: for each planned layer, the gradients of
 * sum_k sum(layer(x)[k] * dL/dy[k]) with respect to its trainable weights and float inputs, x and
 * dL/dy being Keras's goldens.
 */
export async function evaluateLayerGradientsInIsolation(model: tf.LayersModel, bundle: Bundle): Promise<IsolatedGradientEvaluation> {
  const plan = planIsolatedGradients(bundle);
  const computed = new Map<string, ComputedTensor>();
  const skipped = [...plan.skipped];
  for (const layerPlan of plan.layers) {
    try {
      await backpropagateAlone(model, bundle, layerPlan, computed);
    } catch (e) {
      if (e instanceof InputError) throw e;
      const operation = undifferentiableOperation(e);
      skipped.push({ layer: layerPlan.layer, reason: operation ? describeUndifferentiable(operation) : `tfjs could not differentiate it alone: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  return { computed, skipped, unavailable: plan.unavailable };
}

let nextVariableId = 0;

async function backpropagateAlone(model: tf.LayersModel, bundle: Bundle, plan: LayerGradientPlan, computed: Map<string, ComputedTensor>): Promise<void> {
  const layer = model.getLayer(plan.layer);
  const weightVars = plan.weights.map(({ index, check }) => {
    const weight = weightsInKerasOrder(layer, bundle)[index];
    if (!weight?.trainable) {
      throw new InputError(`${bundle.dir}: gradient golden '${check.label}' has no trainable weight ${index} in converted layer '${plan.layer}'.`);
    }
    return weight.read() as tf.Variable;
  });
  const inputs = plan.inputs.map((g) => goldenTensor(bundleGolden(bundle, g)));
  const cotangents = plan.cotangents.map((g) => (g ? goldenTensor(bundleGolden(bundle, g)) : undefined));
  // A tensor the call reads at several positions is one variable fed at each: its gradient sums them.
  const inputVars = plan.inputGradients.map(({ positions }) => tf.variable(inputs[positions[0]!]!, true, `keras_bridge_isolated_input_${nextVariableId++}`));
  const fed = inputs.map((x, position) => inputVars[plan.inputGradients.findIndex((g) => g.positions.includes(position))] ?? x);
  try {
    const { value, grads } = variableGradsReleasing(() => {
      const out = layer.apply(fed.length === 1 ? fed[0]! : fed, { ...plan.kwargs, training: false }) as tf.Tensor | tf.Tensor[];
      const outs = Array.isArray(out) ? out : [out];
      const terms = cotangents.flatMap((g, i) => (g && outs[i] ? [tf.sum(tf.mul(outs[i]!, g))] : []));
      return tf.addN(terms) as tf.Scalar;
    }, [...inputVars, ...weightVars]);
    value.dispose();
    const read = async (v: tf.Variable): Promise<ComputedTensor> => {
      const g = grads[v.name];
      return { shape: [...v.shape], values: g ? ((await g.data()) as Float32Array) : new Float32Array(v.size) };
    };
    for (const [i, { check }] of plan.weights.entries()) computed.set(check.key, await read(weightVars[i]!));
    for (const [i, { check }] of plan.inputGradients.entries()) computed.set(check.key, await read(inputVars[i]!));
    tf.dispose(Object.values(grads));
  } finally {
    tf.dispose([...inputs, ...cotangents.filter((c): c is tf.Tensor => c !== undefined), ...inputVars]);
  }
}

/** The positions of each distinct tensor a call reads, by tensorKey(). */
function positionsByTensor(refs: TensorRef[]): Map<string, number[]> {
  const positions = new Map<string, number[]>();
  refs.forEach((ref, i) => positions.set(tensorKey(ref), [...(positions.get(tensorKey(ref)) ?? []), i]));
  return positions;
}

/** Uses of a tensor besides the `count` reads of one call of `layer`, as a reader would name them. */
function otherUses(users: string[], layer: string, count: number): string[] {
  const others = [...users];
  for (let i = 0; i < count; i++) others.splice(others.indexOf(layer), 1);
  return others.map((u) => (u === '' ? 'a model output' : `'${u}'`));
}

function whyUnavailable(bundle: Bundle): string {
  const policy = bundle.manifest.goldens.gradients.layer_output_gradients;
  const advice = "re-export with --layer-gradients always to check each layer's backward pass alone";
  if (!policy) return `the bundle has no grad_layer_output goldens (its exporter predates them); ${advice}`;
  if (policy.policy === 'never') return `the bundle was exported with --layer-gradients never; ${advice}`;
  if (policy.included) return 'the model has no float layer outputs';
  return `the exporter left out the grad_layer_output goldens (${policy.bytes} bytes, over the ${policy.auto_limit_bytes}-byte limit of --layer-gradients auto); ${advice}`;
}
