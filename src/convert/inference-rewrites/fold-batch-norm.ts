import type * as tf from '@tensorflow/tfjs';
import type { TfjsTopology } from '../translate-model.js';
import { LayerGraph, type TopologyLayer } from './layer-graph.js';
import { NamedWeights } from './named-weights.js';

/** One change an inference rewrite made: `removed`'s output is now computed by `into`. */
export interface InferenceRewrite {
  kind: 'fold-batch-norm' | 'fuse-activation';
  removed: string;
  into: string;
}

/** A converted model as model.json and its weights hold it. */
export interface ModelArtifactsData {
  topology: TfjsTopology;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: Uint8Array;
}

export interface RewrittenModel extends ModelArtifactsData {
  rewrites: InferenceRewrite[];
}

/** Layers a BatchNormalization after them folds into: a linear map per output channel. The name of the kernel, and its output channels from its shape. */
const FOLDABLE: Readonly<Record<string, { kernel: string; channels: (shape: number[]) => number; rank?: number }>> = {
  Dense: { kernel: 'kernel', channels: (s) => s[s.length - 1]! },
  Conv1D: { kernel: 'kernel', channels: (s) => s[s.length - 1]!, rank: 3 },
  Conv2D: { kernel: 'kernel', channels: (s) => s[s.length - 1]!, rank: 4 },
  Conv3D: { kernel: 'kernel', channels: (s) => s[s.length - 1]!, rank: 5 },
  // [kh, kw, in, multiplier]: output channel i·multiplier + m, the last two axes flattened.
  DepthwiseConv2D: { kernel: 'depthwise_kernel', channels: (s) => s[2]! * s[3]!, rank: 4 },
};

/** tfjs-layers' class, and keras-bridge's for the configurations tfjs gets wrong (layers/keras3/batch-normalization.ts): same fields and weights. */
const BATCH_NORMALIZATIONS = new Set(['BatchNormalization', 'KerasBatchNormalization']);

/**
 * Activations worth making a layer's own: tfjs-layers computes relu and elu inside Conv2D's and
 * Dense's fused kernel (conv + bias + activation in one op); relu6 it computes after it, as a ReLU
 * layer capped at 6 does, in two ops, but one layer fewer.
 */
const FUSED_ACTIVATIONS = new Set(['relu', 'elu', 'relu6']);

const isLinear = (layer: TopologyLayer) => (layer.config['activation'] ?? 'linear') === 'linear';
const isFloat32 = (layer: TopologyLayer) => (layer.config['dtype'] ?? 'float32') === 'float32';

/**
 * The activation a layer applies, when it is one of FUSED_ACTIVATIONS: Activation('relu'), or a
 * ReLU layer with no slope or threshold, uncapped (relu) or capped at 6 (relu6).
 */
function fusableActivation(layer: TopologyLayer): string | undefined {
  const c = layer.config;
  if (layer.class_name === 'Activation' && typeof c['activation'] === 'string' && FUSED_ACTIVATIONS.has(c['activation'])) return c['activation'];
  if (layer.class_name !== 'ReLU' || c['negative_slope'] || c['threshold']) return undefined;
  const cap = c['max_value'] ?? c['maxValue'] ?? null;
  return cap === null ? 'relu' : cap === 6 ? 'relu6' : undefined;
}

/**
 * Inference-time rewrites of a converted model (convert --fold-batch-norm): each
 * BatchNormalization that alone reads a Dense's or convolution's linear output is folded into that
 * layer's kernel and bias (w' = w·s, b' = (b - mean)·s + beta, s = gamma/sqrt(variance + ε),
 * computed in float64 and rounded once), and a ReLU, ReLU6 or ELU that alone reads such a layer
 * becomes its activation, which tfjs runs in the same kernel as the convolution (relu, elu). The model computes what it
 * did at inference, to float32 rounding; its batch normalizations no longer exist, so it cannot be
 * trained as Keras's. Returns the rewritten artifacts and each change made (none: the input's own).
 */
export function foldBatchNormalization(model: ModelArtifactsData): RewrittenModel {
  const topology = structuredClone(model.topology);
  const graph = new LayerGraph(topology);
  const weights = NamedWeights.read(model.weightSpecs, model.weightData);
  if (!weights) return { ...model, rewrites: [] };
  const rewrites: InferenceRewrite[] = [];
  for (const layer of [...graph.all()]) {
    const kind = FOLDABLE[layer.class_name];
    if (!kind || !isLinear(layer) || !isFloat32(layer) || (layer.config['data_format'] ?? 'channels_last') !== 'channels_last') continue;
    const norm = graph.soleConsumer(layer);
    if (norm && BATCH_NORMALIZATIONS.has(norm.class_name) && isFloat32(norm) && foldWeights(graph.nameOf(layer), layer, kind, norm, graph.nameOf(norm), weights)) {
      graph.removeInto(norm, layer);
      rewrites.push({ kind: 'fold-batch-norm', removed: graph.nameOf(norm), into: graph.nameOf(layer) });
    }
    const activationLayer = graph.soleConsumer(layer);
    const activation = activationLayer && isFloat32(activationLayer) ? fusableActivation(activationLayer) : undefined;
    if (activationLayer && activation) {
      layer.config['activation'] = activation;
      graph.removeInto(activationLayer, layer);
      rewrites.push({ kind: 'fuse-activation', removed: graph.nameOf(activationLayer), into: graph.nameOf(layer) });
    }
  }
  if (rewrites.length === 0) return { ...model, rewrites };
  return { topology, weightSpecs: weights.specs(), weightData: weights.data(), rewrites };
}

/** Folds `norm` into `layer`'s weights; false (nothing changed) when its axis or weights are not the per-channel ones expected. */
function foldWeights(name: string, layer: TopologyLayer, kind: (typeof FOLDABLE)[string], norm: TopologyLayer, normName: string, weights: NamedWeights): boolean {
  const kernel = weights.values(`${name}/${kind.kernel}`);
  if (!kernel) return false;
  const channels = kind.channels(kernel.shape);
  const axis = norm.config['axis'];
  const lastAxis = axis === -1 || (kind.rank !== undefined && axis === kind.rank - 1) || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === (kind.rank ?? 0) - 1));
  if (!lastAxis) return false;
  const perChannel = (weight: string, present: boolean, absent: number): Float32Array | undefined => {
    if (!present) return new Float32Array(channels).fill(absent);
    const w = weights.values(`${normName}/${weight}`);
    return w && w.values.length === channels ? w.values : undefined;
  };
  const gamma = perChannel('gamma', norm.config['scale'] !== false, 1);
  const beta = perChannel('beta', norm.config['center'] !== false, 0);
  const mean = perChannel('moving_mean', true, 0);
  const variance = perChannel('moving_variance', true, 1);
  const epsilon = Number(norm.config['epsilon'] ?? 1e-3);
  const hasBias = layer.config['use_bias'] !== false;
  const bias = hasBias ? weights.values(`${name}/bias`) : { shape: [channels], values: new Float32Array(channels) };
  if (!gamma || !beta || !mean || !variance || !bias || bias.values.length !== channels) return false;

  // JavaScript multiplies in float64: each folded value is rounded to float32 once, when stored.
  const scale = Float64Array.from(gamma, (g, c) => g / Math.sqrt(variance[c]! + epsilon));
  const folded = new Float32Array(kernel.values.length);
  for (let i = 0; i < folded.length; i++) folded[i] = kernel.values[i]! * scale[i % channels]!;
  const foldedBias = Float32Array.from(bias.values, (b, c) => (b - mean[c]!) * scale[c]! + beta[c]!);
  weights.set(`${name}/${kind.kernel}`, kernel.shape, folded);
  weights.set(`${name}/bias`, [channels], foldedBias, `${name}/${kind.kernel}`);
  for (const weight of ['gamma', 'beta', 'moving_mean', 'moving_variance']) weights.remove(`${normName}/${weight}`);
  if (!hasBias) Object.assign(layer.config, { use_bias: true, bias_initializer: { class_name: 'Zeros', config: {} }, bias_regularizer: null, bias_constraint: null });
  return true;
}
