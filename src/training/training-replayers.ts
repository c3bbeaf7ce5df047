import tf from '#tfjs';
import { random } from './replayable-random.js';

/**
 * A stand-in for a layer's `call` during a training-mode parity check: the layer's own
 * computation, with its random draws taken from keras-bridge's `random` (so that they are
 * Keras's recorded draws). Layers that already draw through `random` (keras-bridge's own, and
 * custom layers written that way) need none; tfjs-layers' classes, which call tf.randomUniform,
 * tf.dropout, ... directly, get one here, keyed by class name.
 */
export type TrainingReplayer = (layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>, ownCall: LayerCall) => tf.Tensor | tf.Tensor[];

/** The layer's own `call`, for a replayer that only changes where the layer's draws come from. */
export type LayerCall = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const replayers = new Map<string, TrainingReplayer>();

export function registerTrainingReplayer(classNames: string[], replayer: TrainingReplayer): void {
  for (const name of classNames) replayers.set(name, replayer);
}

export function findTrainingReplayer(className: string): TrainingReplayer | undefined {
  return replayers.get(className);
}

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

// The replayers below are tfjs-layers 4.22's own calls (layers/core.js, layers/noise.js), line for
// line, with tf.randomUniform / tf.randomNormal / tf.dropout's draw replaced by `random`: what is
// compared with Keras is tfjs's arithmetic around the draw.

interface DropoutLike {
  rate: number;
  getNoiseShape(input: tf.Tensor): number[] | null | undefined;
}

/** Dropout, and SpatialDropout1D which only overrides getNoiseShape: tf.dropout's x * floor(u + keep) / keep. */
registerTrainingReplayer(['Dropout', 'SpatialDropout1D'], (layer, inputs, kwargs) =>
  tf.tidy(() => {
    const { rate } = layer as unknown as DropoutLike;
    const input = single(inputs);
    if (!(0 < rate && rate < 1) || kwargs['training'] !== true) return tf.clone(input);
    const noiseShape = (layer as unknown as DropoutLike).getNoiseShape(input) ?? input.shape;
    const keepProb = 1 - rate;
    return tf.mul(input, tf.div(random.dropoutMask(noiseShape, rate), keepProb));
  }),
);

registerTrainingReplayer(['GaussianNoise'], (layer, inputs, kwargs) =>
  tf.tidy(() => {
    const input = single(inputs);
    if (kwargs['training'] !== true) return tf.clone(input);
    return tf.add(random.normal(input.shape, 0, (layer as unknown as { stddev: number }).stddev), input);
  }),
);

registerTrainingReplayer(['GaussianDropout'], (layer, inputs, kwargs) =>
  tf.tidy(() => {
    const { rate } = layer as unknown as { rate: number };
    const input = single(inputs);
    if (!(rate > 0 && rate < 1) || kwargs['training'] !== true) return tf.clone(input);
    const stddev = Math.sqrt(rate / (1 - rate));
    return tf.mul(input, random.normal(input.shape, 1, stddev));
  }),
);

/**
 * tfjs-layers 4.22's AlphaDropout sets dropped units to -alphaP (x * kept + (kept - 1) * alphaP),
 * where Keras sets them to alphaP (x * kept + alphaP * (1 - kept)): replayed as tfjs computes it,
 * so that a training-mode check shows the difference.
 */
registerTrainingReplayer(['AlphaDropout'], (layer, inputs, kwargs) =>
  tf.tidy(() => {
    const { rate, noiseShape } = layer as unknown as { rate: number; noiseShape?: number[] };
    const input = single(inputs);
    if (!(rate < 1 && rate > 0) || kwargs['training'] !== true) return tf.clone(input);
    const alpha = 1.6732632423543772848170429916717;
    const scale = 1.0507009873554804934193349852946;
    const alphaP = -alpha * scale;
    const keptIdx = tf.cast(tf.greaterEqual(random.uniform(noiseShape ?? input.shape), rate), 'float32');
    const a = ((1 - rate) * (1 + rate * alphaP ** 2)) ** -0.5;
    const b = -a * alphaP * rate;
    const x = tf.add(tf.mul(input, keptIdx), tf.mul(tf.add(keptIdx, -1), alphaP));
    return tf.add(tf.mul(x, a), b);
  }),
);

interface DropoutCell {
  dropoutFunc?: (ones: tf.Tensor, rate: number) => tf.Tensor;
}

/**
 * ConvLSTM2D: tfjs-layers 4.22's cell applies its masks as Keras 3's ConvLSTMCell does (one per
 * gate, for the input and, with recurrent_dropout, for the state), and draws them as Keras's RNN
 * does, once per call: four of the step input's shape, then four of the state's. Only the draw is
 * replaced, through the cell's `dropoutFunc` (tfjs's hook for it), keeping tfjs's arithmetic
 * (tf.dropout's ones * floor(u + keep) / keep, as the mask 1 or 0 divided by keep).
 */
registerTrainingReplayer(['ConvLSTM2D'], (layer, inputs, kwargs, ownCall) => {
  const cell = (layer as unknown as { cell: DropoutCell }).cell;
  const tfjsDraw = cell.dropoutFunc;
  cell.dropoutFunc = (ones, rate) => tf.mul(ones, tf.div(random.dropoutMask(ones.shape, rate), 1 - rate));
  try {
    return ownCall(inputs, kwargs);
  } finally {
    cell.dropoutFunc = tfjsDraw;
  }
});
