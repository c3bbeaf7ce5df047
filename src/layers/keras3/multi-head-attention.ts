import tf from '#tfjs';
import { inSubLayer, random } from '../../training/replayable-random.js';
import { einsum } from './einsum.js';
import { analyzeEinsumDense } from './einsum-dense.js';
import { kerasSoftmax } from './softmax.js';
import { WeightSettings, type TfjsObjectArg } from './tfjs-objects.js';
import { badField, unsupportedField } from '../layer-errors.js';

export interface KerasMultiHeadAttentionArgs {
  numHeads: number;
  keyDim: number;
  valueDim?: number | null;
  dropout?: number;
  useBias?: boolean;
  outputShape?: number | number[] | null;
  attentionAxes?: number | number[] | null;
  useGate?: boolean;
  slidingWindow?: number | null;
  seed?: number | null;
  /** Keras's call option, kept in the config: tfjs-layers' predict() drops per-node call kwargs. */
  useCausalMask?: boolean;
  kernelInitializer?: TfjsObjectArg;
  biasInitializer?: TfjsObjectArg;
  kernelRegularizer?: TfjsObjectArg;
  biasRegularizer?: TfjsObjectArg;
  kernelConstraint?: TfjsObjectArg;
  biasConstraint?: TfjsObjectArg;
}

/** What tfjs passes to call(): kwargs of the call in a functional model, training, masks. */
interface AttentionCallOptions {
  training?: boolean;
  mask?: tf.Tensor | (tf.Tensor | null)[] | null;
  /** Keras's attention_mask=: bool [batch, T, S], passed by a KerasBridgeCallArguments adapter. */
  attentionMask?: tf.Tensor;
  useCausalMask?: boolean;
  returnAttentionScores?: boolean;
}

/** One of Keras's EinsumDense sublayers: its equation and weights. */
interface Projection {
  equation: string;
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
}

/** Keras's large negative for masked logits in dot_product_attention (float32). */
const MASKED_LOGIT = -0.7 * 3.38953e38;

/**
 * Keras 3's MultiHeadAttention, called as mha(query, value) or mha(query, value, key) with
 * use_causal_mask (a config field here), without masks. Its EinsumDense sublayers' weights are this layer's weights, in
 * Keras's order: query, key, gate (use_gate), value, attention_output, each kernel then bias.
 * Like Keras, 3D inputs without dropout go through dot_product_attention (logits scaled after the
 * query-key product, masked logits replaced by -0.7 * 3.39e38); other ranks, or dropout > 0,
 * through the generic path (query scaled first, Keras's Softmax masking over the attention axes).
 */
export class KerasMultiHeadAttention extends tf.layers.Layer {
  static readonly className = 'KerasMultiHeadAttention';
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  readonly outputShapeArg: number[] | null;
  attentionAxes: number[] | null;
  readonly useGate: boolean;
  readonly slidingWindow: number | null;
  readonly seed: number | null;
  readonly useCausalMask: boolean;
  private readonly kernelSettings: WeightSettings;
  private readonly biasSettings: WeightSettings;
  private projections: Record<'query' | 'key' | 'gate' | 'value' | 'output', Projection | null> = {
    query: null,
    key: null,
    gate: null,
    value: null,
    output: null,
  };
  private dotProductEquation = '';
  private combineEquation = '';
  private normAxes: number[] = [];

  constructor(args: KerasMultiHeadAttentionArgs & Record<string, unknown>) {
    super(args as object);
    this.numHeads = args.numHeads;
    this.keyDim = args.keyDim;
    this.valueDim = args.valueDim ?? args.keyDim;
    this.dropout = args.dropout ?? 0;
    this.useBias = args.useBias ?? true;
    const outputShape = args.outputShape ?? null;
    this.outputShapeArg = outputShape === null ? null : Array.isArray(outputShape) ? outputShape : [outputShape];
    const axes = args.attentionAxes ?? null;
    this.attentionAxes = axes === null ? null : Array.isArray(axes) ? axes : [axes];
    this.useGate = args.useGate ?? false;
    this.slidingWindow = args.slidingWindow ?? null;
    this.seed = args.seed ?? null;
    this.useCausalMask = args.useCausalMask ?? false;
    this.kernelSettings = WeightSettings.read(this, args, 'kernel', 'glorotUniform');
    this.biasSettings = WeightSettings.read(this, args, 'bias', 'zeros');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [queryShape, valueShape, keyShape = valueShape] = this.inputShapes(inputShape);
    const projection = (name: string, input: tf.Shape, last: number[]): Projection => {
      const [equation, biasAxes] = projectionEquation(input.length - 1, 1, 2);
      return this.addProjection(name, equation, biasAxes, input, [...new Array<null>(input.length - 2).fill(null), ...last]);
    };
    this.projections.query = projection('query', queryShape!, [this.numHeads, this.keyDim]);
    this.projections.key = projection('key', keyShape!, [this.numHeads, this.keyDim]);
    if (this.useGate) this.projections.gate = projection('gate', queryShape!, [this.numHeads, this.valueDim]);
    this.projections.value = projection('value', valueShape!, [this.numHeads, this.valueDim]);
    const rank = queryShape!.length + 1;
    const outputShape = this.outputShapeArg ?? [queryShape![queryShape!.length - 1]!];
    const [equation, biasAxes] = projectionEquation(queryShape!.length - 1, 2, outputShape.length);
    const combinedShape = [...queryShape!.slice(0, -1), this.numHeads, this.valueDim];
    const outputRank = queryShape!.length - 1 + outputShape.length;
    this.projections.output = this.addProjection('attention_output', equation, biasAxes, combinedShape, [
      ...new Array<null>(outputRank - 1 - outputShape.length).fill(null),
      ...outputShape,
    ]);
    this.attentionAxes = (this.attentionAxes ?? Array.from({ length: rank - 3 }, (_, i) => i + 1)).map((a) => (a >= 0 ? a : rank - 1 + a));
    [this.dotProductEquation, this.combineEquation, this.normAxes] = attentionEquations(rank, this.attentionAxes);
    this.built = true;
  }

  private inputShapes(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const shapes = inputShape as tf.Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length < 2 || shapes.length > 3) {
      throw badField(this, 'inputs', 'takes [query, value] or [query, value, key] as positional inputs');
    }
    return shapes;
  }

  /** An EinsumDense sublayer's weights, named '<sublayer>/kernel' and '<sublayer>/bias' as Keras's. */
  private addProjection(name: string, equation: string, biasAxes: string, input: tf.Shape, outputShape: (number | null)[]): Projection {
    const { kernelShape, biasShape } = analyzeEinsumDense(equation, this.useBias ? biasAxes : null, input, outputShape);
    const k = this.kernelSettings;
    const kernel = this.addWeight(`${name}/kernel`, kernelShape, 'float32', k.initializer, k.regularizer, true, k.constraint);
    const b = this.biasSettings;
    const bias = biasShape ? this.addWeight(`${name}/bias`, biasShape, 'float32', b.initializer, b.regularizer, true, b.constraint) : null;
    return { equation, kernel, bias };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: AttentionCallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const [queryInput, valueInput, keyInput = valueInput] = inputs as tf.Tensor[];
      this.refuseUnsupported(kwargs);
      const useCausalMask = kwargs.useCausalMask ?? this.useCausalMask;
      const project = (p: Projection | null, x: tf.Tensor) => einsum(p!.equation, x, p!.kernel.read(), p!.bias?.read());
      const gate = this.useGate ? tf.sigmoid(project(this.projections.gate, queryInput!)) : null;
      const query = project(this.projections.query, queryInput!);
      const key = project(this.projections.key, keyInput!);
      const value = project(this.projections.value, valueInput!);
      const mask = this.attentionMask(queryInput!.shape[1]!, valueInput!.shape[1]!, useCausalMask, kwargs.attentionMask);
      let attended =
        this.dropout === 0 && query.rank === 4
          ? this.dotProductAttention(query, key, value, mask)
          : this.genericAttention(query, key, value, mask, Boolean(kwargs.training));
      if (gate) attended = tf.mul(attended, gate);
      return project(this.projections.output, attended);
    });
  }

  private refuseUnsupported(kwargs: AttentionCallOptions): void {
    const masks = Array.isArray(kwargs.mask) ? kwargs.mask : [kwargs.mask];
    if (masks.some((m) => m != null)) {
      throw unsupportedField(this, 'mask', 'Keras masks on MultiHeadAttention inputs are not supported by keras-bridge yet');
    }
    if (kwargs.returnAttentionScores) {
      throw unsupportedField(this, 'return_attention_scores', 'True is not supported by keras-bridge yet');
    }
  }

  /**
   * Keras's _compute_attention_mask: the attention_mask given to the call ([batch, T, S]), and
   * the causal (row ≥ column) and sliding-window (|row - column| < window) masks, [1, T, S].
   */
  private attentionMask(queryLength: number, valueLength: number, causal: boolean, given?: tf.Tensor): tf.Tensor | null {
    const masks: tf.Tensor[] = given ? [tf.cast(given, 'bool')] : [];
    if (!causal && this.slidingWindow === null) return masks[0] ?? null;
    const rows = tf.reshape(tf.range(0, queryLength, 1, 'int32'), [1, queryLength, 1]);
    const columns = tf.reshape(tf.range(0, valueLength, 1, 'int32'), [1, 1, valueLength]);
    if (causal) masks.push(tf.greaterEqual(rows, columns));
    if (this.slidingWindow !== null) masks.push(tf.less(tf.abs(tf.sub(rows, columns)), this.slidingWindow));
    return masks.reduce((all, m) => tf.logicalAnd(all, m));
  }

  /** Keras's dot_product_attention on [batch, length, heads, dim] projections. */
  private dotProductAttention(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, mask: tf.Tensor | null): tf.Tensor {
    let logits = tf.mul(einsum('btnh,bsnh->bnts', query, key), tf.scalar(1 / Math.sqrt(this.keyDim)));
    if (mask) logits = tf.where(tf.broadcastTo(tf.expandDims(mask, 1), logits.shape), logits, tf.fill(logits.shape, MASKED_LOGIT));
    return einsum('bnts,bsnh->btnh', tf.softmax(logits), value);
  }

  /** Keras's _compute_attention: the query scaled first, a masked softmax over the attention axes. */
  private genericAttention(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, mask: tf.Tensor | null, training: boolean): tf.Tensor {
    const scaled = tf.mul(query, tf.scalar(1 / Math.sqrt(this.keyDim)));
    const scores = einsum(this.dotProductEquation, key, scaled);
    let weights: tf.Tensor;
    if (mask) {
      let expanded = mask;
      while (expanded.rank < scores.rank) expanded = tf.expandDims(expanded, expanded.rank - this.attentionAxes!.length * 2);
      const keep = tf.broadcastTo(expanded, scores.shape);
      const probabilities = kerasSoftmax(tf.where(keep, scores, tf.fill(scores.shape, -1e9)), this.normAxes);
      weights = tf.where(keep, probabilities, tf.zerosLike(probabilities));
    } else {
      weights = kerasSoftmax(scores, this.normAxes);
    }
    // Keras applies a Dropout sub-layer (auto-named, e.g. 'dropout_2') to the attention weights.
    if (training && this.dropout > 0) {
      const probabilities = weights;
      weights = inSubLayer('dropout', () => random.dropout(probabilities, this.dropout, probabilities.shape, this.seed ?? undefined));
    }
    return einsum(this.combineEquation, weights, value);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [queryShape] = this.inputShapes(inputShape);
    return this.outputShapeArg ? [...queryShape!.slice(0, -1), ...this.outputShapeArg] : queryShape!;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropout,
      useBias: this.useBias,
      outputShape: this.outputShapeArg,
      attentionAxes: this.attentionAxes,
      useGate: this.useGate,
      slidingWindow: this.slidingWindow,
      seed: this.seed,
      useCausalMask: this.useCausalMask,
      ...this.kernelSettings.config(),
      ...this.biasSettings.config(),
    };
  }
}
tf.serialization.registerClass(KerasMultiHeadAttention);

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Keras's _build_proj_equation: [equation, bias axes]. */
function projectionEquation(freeDims: number, boundDims: number, outputDims: number): [string, string] {
  const free = LETTERS.slice(0, freeDims);
  const bound = LETTERS.slice(freeDims, freeDims + boundDims);
  const output = LETTERS.slice(freeDims + boundDims, freeDims + boundDims + outputDims);
  return [`${free}${bound},${bound}${output}->${free}${output}`, output];
}

/** Keras's _build_attention_equation: [dot product, combine, softmax axes]. */
function attentionEquations(rank: number, attentionAxes: number[]): [string, string, number[]] {
  const target = LETTERS.slice(0, rank);
  const batchDims = [...Array(rank).keys()].filter((i) => !attentionAxes.includes(i) && i !== rank - 1);
  let offset = rank;
  const source = [...target].map((letter, i) => (batchDims.includes(i) || i === rank - 1 ? letter : LETTERS[offset++]!)).join('');
  const product = [...batchDims.map((i) => target[i]), ...attentionAxes.map((i) => target[i]), ...attentionAxes.map((i) => source[i])].join('');
  const normAxes = Array.from({ length: attentionAxes.length }, (_, i) => product.length - attentionAxes.length + i);
  return [`${source},${target}->${product}`, `${product},${source}->${target}`, normAxes];
}
