import assert from 'node:assert/strict';
import tf from '#tfjs';
import {
  KerasAdditiveAttention,
  KerasAttention,
  KerasConv1DTranspose,
  KerasCropping,
  KerasCustomScaleLayer,
  KerasDepthwiseConv1D,
  KerasEinsumDense,
  KerasELU,
  KerasGlobalAveragePooling,
  KerasGlobalMaxPooling,
  KerasGroupNormalization,
  KerasLayerScale,
  KerasMultiHeadAttention,
  KerasNormalization,
  KerasReLU,
  KerasRMSNormalization,
  KerasSeparableConv1D,
  KerasSoftmax,
  KerasSpatialDropout,
  KerasSubtract,
  KerasUnitNormalization,
  KerasUpSampling,
  KerasZeroPadding,
} from '../../../src/layers/keras3/index.js';
import { roundTripLayer } from '../../support/layer-harness.js';

interface LayerCase {
  layer: () => tf.layers.Layer;
  inputShape: number[];
  outputShape: (number | null)[];
  weightShapes: number[][];
}

// Each layer through the shared harness: config round trip, output shape, weights in Keras's
// order and shapes. Values are checked against Keras by the layer zoo (fixtures/zoo/keras3_layers.py).
const CASES: Record<string, LayerCase> = {
  KerasReLU: { layer: () => new KerasReLU({ name: 'r', maxValue: 2, negativeSlope: 0.1, threshold: 0.5 }), inputShape: [4], outputShape: [null, 4], weightShapes: [] },
  KerasELU: { layer: () => new KerasELU({ name: 'e', alpha: 0.5 }), inputShape: [4], outputShape: [null, 4], weightShapes: [] },
  KerasSoftmax: { layer: () => new KerasSoftmax({ name: 's', axis: [1, 2] }), inputShape: [3, 4], outputShape: [null, 3, 4], weightShapes: [] },
  KerasGroupNormalization: {
    layer: () => new KerasGroupNormalization({ name: 'g', groups: 2 }),
    inputShape: [3, 6],
    outputShape: [null, 3, 6],
    weightShapes: [[6], [6]],
  },
  KerasUnitNormalization: { layer: () => new KerasUnitNormalization({ name: 'u', axis: [1, 2] }), inputShape: [3, 4], outputShape: [null, 3, 4], weightShapes: [] },
  KerasRMSNormalization: { layer: () => new KerasRMSNormalization({ name: 'n', axis: [2, 1] }), inputShape: [3, 4], outputShape: [null, 3, 4], weightShapes: [[3, 4]] },
  KerasConv1DTranspose: {
    layer: () => new KerasConv1DTranspose({ name: 't', filters: 3, kernelSize: [3], strides: [2] }),
    inputShape: [5, 2],
    outputShape: [null, 11, 3],
    weightShapes: [[3, 3, 2], [3]],
  },
  'KerasConv1DTranspose (channels first, same, output_padding)': {
    layer: () => new KerasConv1DTranspose({ name: 't', filters: 3, kernelSize: [4], strides: [2], padding: 'same', outputPadding: [1], dataFormat: 'channelsFirst' }),
    inputShape: [2, 5],
    outputShape: [null, 3, 9],
    weightShapes: [[4, 3, 2], [3]],
  },
  KerasSeparableConv1D: {
    layer: () => new KerasSeparableConv1D({ name: 's', filters: 4, kernelSize: [3], depthMultiplier: 2, activation: 'kerasHardSigmoid' }),
    inputShape: [7, 3],
    outputShape: [null, 5, 4],
    weightShapes: [[3, 3, 2], [1, 6, 4], [4]],
  },
  KerasDepthwiseConv1D: {
    layer: () => new KerasDepthwiseConv1D({ name: 'd', kernelSize: [2], dilationRate: [3], depthMultiplier: 2, useBias: false }),
    inputShape: [9, 3],
    outputShape: [null, 6, 6],
    weightShapes: [[2, 3, 2]],
  },
  'KerasCropping (1D)': { layer: () => new KerasCropping({ name: 'c', cropping: [[1, 2]] }), inputShape: [6, 2], outputShape: [null, 3, 2], weightShapes: [] },
  'KerasCropping (3D, channels first)': {
    layer: () => new KerasCropping({ name: 'c', cropping: [[1, 0], [0, 1], [1, 1]], dataFormat: 'channelsFirst' }),
    inputShape: [2, 3, 3, 4],
    outputShape: [null, 2, 2, 2, 2],
    weightShapes: [],
  },
  KerasZeroPadding: {
    layer: () => new KerasZeroPadding({ name: 'z', padding: [[1, 0], [0, 2], [1, 1]] }),
    inputShape: [2, 2, 2, 3],
    outputShape: [null, 3, 4, 4, 3],
    weightShapes: [],
  },
  KerasUpSampling: { layer: () => new KerasUpSampling({ name: 'u', size: [2, 1, 3] }), inputShape: [2, 2, 2, 3], outputShape: [null, 4, 2, 6, 3], weightShapes: [] },
  'KerasGlobalAveragePooling (3D)': { layer: () => new KerasGlobalAveragePooling({ name: 'p' }), inputShape: [2, 3, 2, 4], outputShape: [null, 4], weightShapes: [] },
  'KerasGlobalAveragePooling (1D, keepdims, channels first)': {
    layer: () => new KerasGlobalAveragePooling({ name: 'p', keepdims: true, dataFormat: 'channelsFirst' }),
    inputShape: [4, 5],
    outputShape: [null, 4, 1],
    weightShapes: [],
  },
  'KerasGlobalMaxPooling (2D, keepdims)': {
    layer: () => new KerasGlobalMaxPooling({ name: 'p', keepdims: true }),
    inputShape: [3, 2, 4],
    outputShape: [null, 1, 1, 4],
    weightShapes: [],
  },
  'KerasGlobalMaxPooling (3D, keepdims, channels first)': {
    layer: () => new KerasGlobalMaxPooling({ name: 'p', keepdims: true, dataFormat: 'channelsFirst' }),
    inputShape: [4, 2, 3, 2],
    outputShape: [null, 4, 1, 1, 1],
    weightShapes: [],
  },
  KerasLayerScale: { layer: () => new KerasLayerScale({ name: 's', initValues: 1e-6, projectionDim: 4 }), inputShape: [3, 4], outputShape: [null, 3, 4], weightShapes: [[4]] },
  'KerasNormalization (mean and variance in the config)': {
    layer: () => new KerasNormalization({ name: 'n', axis: [1], mean: [1, 2, 3], variance: [1, 4, 9], invert: true }),
    inputShape: [3, 2],
    outputShape: [null, 3, 2],
    weightShapes: [],
  },
  // After adapt(), Keras holds mean, variance and an int count as weights.
  'KerasNormalization (adapted)': { layer: () => new KerasNormalization({ name: 'n', axis: [-1] }), inputShape: [3, 4], outputShape: [null, 3, 4], weightShapes: [[4], [4], []] },
  KerasEinsumDense: {
    layer: () => new KerasEinsumDense({ name: 'e', equation: 'abc,cde->abde', outputShape: [null, 2, 3], biasAxes: 'de', activation: 'gelu' }),
    inputShape: [4, 5],
    outputShape: [null, 4, 2, 3],
    weightShapes: [[5, 2, 3], [2, 3]],
  },
  'KerasEinsumDense (right ellipsis)': {
    layer: () => new KerasEinsumDense({ name: 'e', equation: 'ab...,bc->ac...', outputShape: [3], biasAxes: 'c' }),
    inputShape: [4, 2],
    outputShape: [null, 3, 2],
    weightShapes: [[4, 3], [3, 1]],
  },
  KerasSpatialDropout: { layer: () => new KerasSpatialDropout({ name: 'd', rate: 0.5 }), inputShape: [3, 3, 2], outputShape: [null, 3, 3, 2], weightShapes: [] },
};

/** roundTripLayer's checks for a layer that takes a list of inputs. */
function roundTripMultiInput(layer: tf.layers.Layer, inputShapes: number[][]): { layer: tf.layers.Layer; output: tf.SymbolicTensor } {
  const className = (layer.constructor as unknown as { className: string }).className;
  const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[className]!;
  const rebuilt = fromConfig(cls, layer.getConfig()) as tf.layers.Layer;
  assert.deepEqual(rebuilt.getConfig(), layer.getConfig(), `${className}: getConfig() does not round-trip`);
  const output = rebuilt.apply(inputShapes.map((shape) => tf.input({ shape }))) as tf.SymbolicTensor;
  return { layer: rebuilt, output };
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor | number[]): number {
  return tf.max(tf.abs(tf.sub(a, Array.isArray(b) ? tf.tensor(b, a.shape) : b))).dataSync()[0]!;
}

describe('Keras 3 layers in TypeScript (src/layers/keras3)', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: config round trip, output shape, Keras's weight shapes`, () => {
      const { layer, output } = roundTripLayer(c.layer(), c.inputShape);
      assert.deepEqual(output.shape, c.outputShape);
      assert.deepEqual(layer.weights.map((w) => w.shape), c.weightShapes);
    });
  }

  it('KerasReLU follows Keras: threshold, negative slope below it, max_value', () => {
    const layer = new KerasReLU({ maxValue: 2, negativeSlope: 0.5, threshold: 1 });
    // keras.layers.ReLU(max_value=2, negative_slope=0.5, threshold=1)([-1, 0.5, 1.5, 3])
    assert.ok(maxAbsDiff(layer.apply(tf.tensor([-1, 0.5, 1.5, 3])) as tf.Tensor, [-1, -0.25, 1.5, 2]) < 1e-7);
  });

  it('KerasSoftmax with a mask replaces masked logits and zeroes masked outputs, as Keras', () => {
    const layer = new KerasSoftmax({});
    const y = layer.apply(tf.tensor([[1, 2, 3]]), { mask: tf.tensor([[1, 0, 1]]) }) as tf.Tensor;
    const e = [Math.exp(1), Math.exp(3)];
    assert.ok(maxAbsDiff(y, [e[0]! / (e[0]! + e[1]!), 0, e[1]! / (e[0]! + e[1]!)]) < 1e-6);
    const allMasked = layer.apply(tf.tensor([[1, 2]]), { mask: tf.tensor([[0, 0]]) }) as tf.Tensor;
    assert.deepEqual(Array.from(allMasked.dataSync()), [0, 0]);
  });

  it('KerasSubtract takes two inputs and broadcasts', () => {
    const layer = new KerasSubtract({});
    const out = layer.apply([tf.input({ shape: [3, 4] }), tf.input({ shape: [1, 4] })]) as tf.SymbolicTensor;
    assert.deepEqual(out.shape, [null, 3, 4]);
    assert.throws(() => new KerasSubtract({}).apply([tf.input({ shape: [4] }), tf.input({ shape: [3, 4] })]), /different ranks/);
  });

  it('KerasCustomScaleLayer adds the second input times scale to the first, round-trips its config, and takes exactly two inputs', () => {
    const layer = new KerasCustomScaleLayer({ name: 'c', scale: 0.17 });
    const config = layer.getConfig();
    assert.deepEqual(new KerasCustomScaleLayer(config as never).getConfig(), config);
    const out = layer.apply([tf.input({ shape: [3, 4] }), tf.input({ shape: [null as unknown as number, 4] })]) as tf.SymbolicTensor;
    assert.deepEqual(out.shape, [null, 3, 4]);
    const [a, b] = [tf.tensor([[1, 2]]), tf.tensor([[10, 20]])];
    assert.deepEqual(Array.from((new KerasCustomScaleLayer({ scale: 0.5 }).apply([a, b]) as tf.Tensor).dataSync()), [6, 12]);
    assert.throws(() => new KerasCustomScaleLayer({ scale: 1 }).apply(tf.input({ shape: [4] })), /takes a list of 2 inputs, got 1/);
  });

  it('KerasGroupNormalization with groups = -1 normalizes each channel alone and stores the channel count', () => {
    const { layer } = roundTripLayer(new KerasGroupNormalization({ groups: -1, epsilon: 0 }), [5, 3]);
    assert.equal((layer as KerasGroupNormalization).groups, 3);
    const x = tf.randomNormal([2, 5, 3]);
    const { mean, variance } = tf.moments(x, 1, true);
    assert.ok(maxAbsDiff(layer.apply(x) as tf.Tensor, tf.div(tf.sub(x, mean), tf.sqrt(variance))) < 1e-5);
  });
});

describe('KerasMultiHeadAttention', () => {
  it("has its sublayers' weights in Keras's order and shapes, and round-trips its config", () => {
    const layer = new KerasMultiHeadAttention({ name: 'mha', numHeads: 2, keyDim: 3, valueDim: 4, useGate: true, outputShape: [5], useCausalMask: true });
    const { layer: rebuilt, output } = roundTripMultiInput(layer, [[4, 6], [7, 3]]);
    assert.deepEqual(output.shape, [null, 4, 5]);
    assert.deepEqual(
      rebuilt.weights.map((w) => [w.originalName, w.shape]),
      [
        ['mha/query/kernel', [6, 2, 3]],
        ['mha/query/bias', [2, 3]],
        ['mha/key/kernel', [3, 2, 3]],
        ['mha/key/bias', [2, 3]],
        ['mha/gate/kernel', [6, 2, 4]],
        ['mha/gate/bias', [2, 4]],
        ['mha/value/kernel', [3, 2, 4]],
        ['mha/value/bias', [2, 4]],
        ['mha/attention_output/kernel', [2, 4, 5]],
        ['mha/attention_output/bias', [5]],
      ],
    );
  });

  it('with a causal mask, a query position ignores later values', () => {
    const layer = new KerasMultiHeadAttention({ numHeads: 1, keyDim: 2, useCausalMask: true });
    const x = tf.randomNormal([1, 4, 3]);
    const changedLast = tf.concat([tf.slice(x, [0, 0, 0], [1, 3, 3]), tf.fill([1, 1, 3], 9)], 1);
    const [a, b] = [layer.apply([x, x]) as tf.Tensor, layer.apply([changedLast, changedLast]) as tf.Tensor];
    assert.ok(maxAbsDiff(tf.slice(a, [0, 0, 0], [1, 3, 3]), tf.slice(b, [0, 0, 0], [1, 3, 3])) < 1e-6);
  });
});

describe('KerasAttention and KerasAdditiveAttention', () => {
  const query = tf.randomNormal([2, 4, 3]);
  const value = tf.randomNormal([2, 5, 3]);
  const attend = (scores: tf.Tensor) => tf.matMul(tf.softmax(scores), value);

  it('weights: scale and concat_score_weight scalars for Attention, a [dim] scale for AdditiveAttention', () => {
    const attention = roundTripMultiInput(new KerasAttention({ name: 'a', useScale: true, scoreMode: 'concat' }), [[4, 3], [5, 2]]);
    assert.deepEqual(attention.output.shape, [null, 4, 2]);
    assert.deepEqual(attention.layer.weights.map((w) => [w.originalName, w.shape]), [['a/scale', []], ['a/concat_score_weight', []]]);
    const additive = roundTripMultiInput(new KerasAdditiveAttention({ name: 'b' }), [[4, 3], [5, 3], [5, 3]]);
    assert.deepEqual(additive.layer.weights.map((w) => w.shape), [[3]]);
    assert.equal('scoreMode' in additive.layer.getConfig(), false);
  });

  it("compute Keras's scores: dot times scale, and concat_score_weight * Σ tanh(scale * (q + k))", () => {
    const dot = new KerasAttention({ useScale: true });
    dot.apply([query, value]);
    dot.weights[0]!.write(tf.scalar(0.7));
    const expectedDot = attend(tf.mul(tf.matMul(query, value, false, true), 0.7));
    assert.ok(maxAbsDiff(dot.apply([query, value]) as tf.Tensor, expectedDot) < 1e-6);
    const concat = new KerasAttention({ useScale: true, scoreMode: 'concat' });
    concat.apply([query, value]);
    concat.weights[0]!.write(tf.scalar(0.5));
    concat.weights[1]!.write(tf.scalar(1.5));
    const sum = tf.add(tf.expandDims(query, 2), tf.expandDims(value, 1));
    const expectedConcat = attend(tf.mul(1.5, tf.sum(tf.tanh(tf.mul(0.5, sum)), -1)));
    assert.ok(maxAbsDiff(concat.apply([query, value]) as tf.Tensor, expectedConcat) < 1e-6);
  });

  it('a causal mask subtracts 1e9 from the scores of later steps', () => {
    const layer = new KerasAttention({ useCausalMask: true });
    const y = layer.apply([query, query]) as tf.Tensor;
    const first = tf.slice(y, [0, 0, 0], [2, 1, 3]);
    assert.ok(maxAbsDiff(first, tf.slice(query, [0, 0, 0], [2, 1, 3])) < 1e-6);
  });
});

describe('KerasNormalization', () => {
  it('places a config mean on the kept axes and floors the standard deviation at 1e-7, as Keras', () => {
    const layer = new KerasNormalization({ axis: [1], mean: [1, 2, 3], variance: [1, 4, 1e-16] });
    const y = layer.apply(tf.tensor([[[1, 3], [2, 4], [3, 3]]])) as tf.Tensor;
    assert.ok(maxAbsDiff(y, [0, 2, 0, 1, 0, 0]) < 1e-6);
    const tiny = new KerasNormalization({ axis: [], mean: 0, variance: 1e-16 });
    assert.ok(maxAbsDiff(tiny.apply(tf.tensor([[1e-7]])) as tf.Tensor, [1]) < 1e-6);
  });
});

describe('Keras 3 reshaping and regularization layers', () => {
  it('KerasUpSampling repeats each element (NumPy repeat), not the whole axis (tile)', () => {
    const y = new KerasUpSampling({ size: [2] }).apply(tf.tensor([[[1], [2]]])) as tf.Tensor;
    assert.deepEqual(Array.from(y.dataSync()), [1, 1, 2, 2]);
  });

  it('KerasSpatialDropout is the identity at inference and drops whole feature maps in training', () => {
    const layer = new KerasSpatialDropout({ rate: 0.5, seed: 1 });
    const x = tf.ones([2, 4, 4, 8]);
    assert.equal(maxAbsDiff(layer.apply(x) as tf.Tensor, x), 0);
    const trained = layer.apply(x, { training: true }) as tf.Tensor;
    const perMap = tf.moments(trained, [1, 2]);
    assert.equal(tf.max(perMap.variance).dataSync()[0], 0);
  });
});

describe('dilated 1D convolutions without tfjs dilation', () => {
  it('a zero-filled kernel gives what tfjs computes with a dilation rate, and is differentiable', () => {
    const layer = new KerasDepthwiseConv1D({ kernelSize: [3], dilationRate: [2], useBias: false });
    const x = tf.randomNormal([2, 9, 2]);
    const y = layer.apply(x) as tf.Tensor;
    const kernel = tf.expandDims(layer.weights[0]!.read(), 0) as tf.Tensor4D;
    const reference = tf.squeeze(tf.depthwiseConv2d(tf.expandDims(x, 1) as tf.Tensor4D, kernel, 1, 'valid', 'NHWC', [1, 2]), [1]);
    assert.ok(maxAbsDiff(y, reference) < 1e-6);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(layer.apply(v) as tf.Tensor))(x);
    assert.deepEqual(grad.shape, [2, 9, 2]);
  });
});
