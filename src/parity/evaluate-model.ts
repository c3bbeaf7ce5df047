import tf from '#tfjs';
import { bundleGolden, type Bundle } from '../keras/bundle.js';
import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { TFJS_MODEL_NODE_OFFSET } from '../convert/functional-graph.js';
import { InputError } from '../errors.js';
import { weightsInKerasOrder } from '../convert/weight-pairing.js';
import { goldenTensor } from './golden-tensor.js';
import { LayerOutputTaps } from './layer-output-taps.js';
import { variableGradsReleasing } from './abandoned-tape.js';
import { asTrainingPass } from '../backends/kernel-fixes/winograd-conv2d.js';
import { explainMissingGradient, GradientUnavailableError } from './missing-gradient.js';

/** What the tfjs model computed for one golden tensor. */
export interface ComputedTensor {
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
}

/** What one end-to-end pass computed, keyed by goldenKey(). */
export interface ModelEvaluation {
  computed: Map<string, ComputedTensor>;
  /** Why no gradient was computed (a layer runs an operation tfjs cannot differentiate), else null. */
  gradientsNotCompared: string | null;
}

/**
 * Runs the converted model on the active backend with the bundle's golden inputs and returns,
 * keyed by goldenKey(), the final outputs, every recorded layer output, and the gradients of
 * loss = sum_i sum(outputs[i] * cotangents[i]) with respect to the float inputs and trainable
 * weights. Integer inputs (indices, e.g. into an Embedding) are fed as int32 and have no gradient.
 * When tfjs cannot differentiate a layer, the forward results stand and the gradients are missing,
 * with why.
 */
export async function evaluateModel(model: tf.LayersModel, bundle: Bundle): Promise<ModelEvaluation> {
  const { inputs, cotangents } = goldenInputs(bundle);
  const computed = new Map<string, ComputedTensor>();
  try {
    await forward(model, bundle, inputs, computed);
    const gradientsNotCompared = await gradientsOrWhyNot(model, bundle, inputs, cotangents, computed);
    return { computed, gradientsNotCompared };
  } finally {
    tf.dispose([...inputs, ...cotangents]);
  }
}

/** The bundle's golden inputs and cotangents as tensors on the active backend (the caller disposes them). */
export function goldenInputs(bundle: Bundle): { inputs: tf.Tensor[]; cotangents: tf.Tensor[] } {
  const goldens = bundle.manifest.goldens.tensors;
  const tensorOf = (g: GoldenTensorRecord) => goldenTensor(bundleGolden(bundle, g));
  return {
    inputs: goldens.filter((g) => g.kind === 'input').sort(byIndex).map(tensorOf),
    cotangents: goldens.filter((g) => g.kind === 'cotangent').sort(byIndex).map(tensorOf),
  };
}

/** Which goldens a pass computes, and in which mode (training-mode goldens: evaluate-training.ts). */
export interface PassGoldens {
  goldens: readonly GoldenTensorRecord[];
  training: boolean;
}

export function goldenKey(g: GoldenTensorRecord): string {
  switch (g.kind) {
    case 'layer_output':
    case 'grad_layer_output':
      return `${g.kind}:${g.layer}:${g.node}:${g.index}`;
    case 'grad_weight':
    case 'weight_after_pass':
    case 'trained_weight':
      return `${g.kind}:${g.layer}:${g.index}`;
    default:
      return `${g.kind}:${g.index}`;
  }
}

/** The goldens a backward pass computes. */
export function isGradient(g: GoldenTensorRecord): boolean {
  return g.kind === 'grad_input' || g.kind === 'grad_weight' || g.kind === 'grad_layer_output';
}

let nextVariableId = 0;

function byIndex(a: { index: number }, b: { index: number }): number {
  return a.index - b.index;
}

/** One probe model whose outputs are the model's outputs followed by every golden layer output. */
export async function forward(
  model: tf.LayersModel,
  bundle: Bundle,
  inputs: tf.Tensor[],
  results: Map<string, ComputedTensor>,
  pass: PassGoldens = { goldens: bundle.manifest.goldens.tensors, training: false },
): Promise<void> {
  const layerGoldens = pass.goldens.filter((g) => g.kind === 'layer_output');
  const symbolic = layerGoldens.map((g) => {
    const layer = findLayer(model, g.layer, bundle);
    const node = layer.inboundNodes[g.node + (layer instanceof tf.LayersModel ? TFJS_MODEL_NODE_OFFSET : 0)];
    const tensor = node?.outputTensors[g.index];
    if (!tensor) {
      throw new InputError(`${bundle.dir}: golden for layer '${g.layer}' names node ${g.node}, tensor ${g.index}, which the converted layer does not have.`);
    }
    return tensor;
  });
  // A tensor can be both a model output and a layer output; tfjs wants each output once.
  const keyed: Array<[string, tf.SymbolicTensor]> = [
    ...model.outputs.map((t, i): [string, tf.SymbolicTensor] => [`output:${i}`, t]),
    ...layerGoldens.map((g, i): [string, tf.SymbolicTensor] => [goldenKey(g), symbolic[i]!]),
  ];
  const unique = [...new Set(keyed.map(([, t]) => t))];
  const probe = tf.model({ inputs: model.inputs, outputs: unique });
  const fed = inputs.length === 1 ? inputs[0]! : inputs;
  // predict() runs in inference mode whatever it is told; apply() passes `training` to every layer.
  // A training-mode pass takes the convolutions a recorded one does (winograd-conv2d.ts).
  const computed = (pass.training ? asTrainingPass(() => probe.apply(fed, { training: true })) : probe.predict(fed)) as tf.Tensor | tf.Tensor[];
  const all = Array.isArray(computed) ? computed : [computed];
  const values = await Promise.all(all.map(read));
  for (const [key, t] of keyed) results.set(key, values[unique.indexOf(t)]!);
  tf.dispose(all);
  if (!pass.training) await plainPredict(model, fed, results);
}

/**
 * The final outputs as users get them, from the model's own predict(): the probe above fetches
 * every layer output, and tfjs-layers' executor keeps fetched tensors alive, so a fault in what it
 * frees between layers (repeated-inputs.ts) shows only when just the outputs are fetched.
 */
async function plainPredict(model: tf.LayersModel, fed: tf.Tensor | tf.Tensor[], results: Map<string, ComputedTensor>): Promise<void> {
  const out = model.predict(fed) as tf.Tensor | tf.Tensor[];
  const outs = Array.isArray(out) ? out : [out];
  try {
    for (const [i, t] of outs.entries()) results.set(`output:${i}`, await read(t));
  } finally {
    tf.dispose(outs);
  }
}

export async function gradients(
  model: tf.LayersModel,
  bundle: Bundle,
  inputs: tf.Tensor[],
  cotangents: tf.Tensor[],
  results: Map<string, ComputedTensor>,
  pass: PassGoldens = { goldens: bundle.manifest.goldens.tensors, training: false },
): Promise<void> {
  const gradGoldens = pass.goldens.filter((g) => g.kind === 'grad_weight');
  const weightVars = gradGoldens.map((g) => {
    if (g.kind !== 'grad_weight') throw new Error('unreachable');
    const weight = weightsInKerasOrder(findLayer(model, g.layer, bundle), bundle)[g.index];
    if (!weight?.trainable) {
      throw new InputError(`${bundle.dir}: gradient golden '${g.path}' has no trainable weight ${g.index} in converted layer '${g.layer}'.`);
    }
    return weight.read() as tf.Variable;
  });
  // Only float inputs become variables: a gradient with respect to an index means nothing.
  const inputVars = inputs.map((x, i) =>
    x.dtype === 'float32' ? tf.variable(x, true, `keras_bridge_input_${i}_${nextVariableId++}`) : undefined,
  );
  const fed = inputs.map((x, i) => inputVars[i] ?? x);
  const differentiable = inputVars.filter((v): v is tf.Variable => v !== undefined);
  // dL/dy of every layer output with a golden, from the same backward pass (layer-output-taps.ts).
  const taps = LayerOutputTaps.of(model, bundle, pass.goldens);
  // Nothing to differentiate (integer inputs, no trainable weights): the bundle has no gradient goldens.
  if (differentiable.length + weightVars.length === 0 && !taps) return;
  try {
    taps?.install();
    taps?.feed(fed);
    const { value, grads } = variableGradsReleasing(
      () => goldenLoss(model, fed, cotangents, pass.training),
      [...differentiable, ...weightVars, ...(taps ? [taps.anchor] : [])],
    );
    value.dispose();
    // A variable the loss does not depend on (a position encoding reads only its input's shape)
    // has no entry in tfjs's grads; its gradient is zero, as Keras records it.
    const zeros: tf.Tensor[] = [];
    const gradOf = (v: tf.Variable) => grads[v.name] ?? zeros[zeros.push(tf.zerosLike(v)) - 1]!;
    for (const [i, v] of inputVars.entries()) {
      if (v) results.set(`grad_input:${i}`, await read(gradOf(v)));
    }
    for (const [i, g] of gradGoldens.entries()) results.set(goldenKey(g), await read(gradOf(weightVars[i]!)));
    tf.dispose(zeros);
    for (const [key, grad] of (await taps?.gradients()) ?? []) results.set(key, grad);
    tf.dispose(Object.values(grads));
  } catch (e) {
    throw await explainMissingGradient(e, model, bundle, pass.training);
  } finally {
    taps?.uninstall();
    tf.dispose(differentiable);
  }
}

/** gradients(), or, when a layer runs an operation tfjs cannot differentiate, nothing and why (GradientUnavailableError's reason). */
export async function gradientsOrWhyNot(
  model: tf.LayersModel,
  bundle: Bundle,
  inputs: tf.Tensor[],
  cotangents: tf.Tensor[],
  results: Map<string, ComputedTensor>,
  pass?: PassGoldens,
): Promise<string | null> {
  try {
    await gradients(model, bundle, inputs, cotangents, results, pass);
    return null;
  } catch (e) {
    if (e instanceof GradientUnavailableError) return e.reason;
    throw e;
  }
}

/** The bundle's loss: sum_i sum(outputs[i] * cotangents[i]). */
export function goldenLoss(model: tf.LayersModel, inputs: tf.Tensor[], cotangents: tf.Tensor[], training: boolean): tf.Scalar {
  const out = model.apply(inputs.length === 1 ? inputs[0]! : inputs, { training }) as tf.Tensor | tf.Tensor[];
  const outs = Array.isArray(out) ? out : [out];
  return tf.addN(outs.map((o, i) => tf.sum(tf.mul(o, cotangents[i]!)))) as tf.Scalar;
}

export function findLayer(model: tf.LayersModel, name: string, bundle: Bundle): tf.layers.Layer {
  try {
    return model.getLayer(name);
  } catch {
    throw new InputError(`${bundle.dir}: the bundle has goldens for layer '${name}', which the converted model lacks.`);
  }
}

export async function read(t: tf.Tensor): Promise<ComputedTensor> {
  return { shape: [...t.shape], values: (await t.data()) as Float32Array };
}
