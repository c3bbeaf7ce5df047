import assert from 'node:assert/strict';
import tf from '#tfjs';
import '../../../src/runtime.js';
import { probeBackend, useBackend } from '../../../src/backends/index.js';
import { values } from '../../support/sine-values.js';
import { restoresBackend } from '../../support/backend-suite.js';

function activate(y: tf.Tensor, activation: string): tf.Tensor {
  if (activation === 'relu') return tf.relu(y);
  if (activation === 'relu6') return tf.minimum(6, tf.relu(y));
  if (activation === 'elu') return tf.elu(y);
  return y;
}

/** A layer with its kernel and bias set, and what tfjs-layers' own call computes from them, one operation after the other. */
interface LayerCase {
  layer: tf.layers.Layer;
  kernel: tf.Tensor;
  bias: tf.Tensor;
  /** Input values scaled so that relu6 saturates somewhere. */
  x: tf.Tensor4D;
  separately: (x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor) => tf.Tensor;
  /** The fused kernel its predict should run instead of `separate` ones. */
  fusedKernel: string;
  activation: string;
}

const SEPARATE_KERNELS = ['Conv2D', 'DepthwiseConv2dNative', 'Add', 'BiasAdd', 'Relu', 'Relu6', 'Minimum', 'Elu'];

/**
 * Predicts with the layer: one fused kernel (on tensorflow, tfjs-node's fused kernels are themselves
 * several TensorFlow ops called as tfjs kernels, so only the values are compared there), the values
 * the separate operations give, and under a tape the gradients w.r.t. the input, the kernel and the
 * bias as the separate operations give them; no tensor left behind.
 */
async function checkFused(c: LayerCase, backend: string): Promise<void> {
  const model = tf.sequential({ layers: [c.layer] });
  c.layer.setWeights([c.kernel, c.bias]);
  const before = tf.memory().numTensors;
  let predicted: Float32Array = new Float32Array();
  const profile = await tf.profile(() => {
    predicted = tf.tidy(() => (model.predict(c.x) as tf.Tensor).dataSync() as Float32Array);
  });
  const kernels = profile.kernels.map((k) => k.name);
  assert.ok(kernels.includes(c.fusedKernel), kernels.join(', '));
  if (backend !== 'tensorflow') assert.deepEqual(kernels.filter((k) => SEPARATE_KERNELS.includes(k)), [], kernels.join(', '));
  const expected = tf.tidy(() => c.separately(c.x, c.kernel as tf.Tensor4D, c.bias).dataSync() as Float32Array);
  assert.equal(predicted.length, expected.length);
  predicted.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-5 * (1 + Math.abs(expected[i]!)), `[${i}] ${v} against ${expected[i]}`));
  assert.ok(c.activation !== 'relu6' || (expected.some((v) => v === 6) && expected.some((v) => v === 0)), 'relu6 saturates and cuts somewhere');
  const input = tf.variable(c.x);
  const weights = c.layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const weigh = (y: tf.Tensor) => tf.sum(tf.mul(y, values(y.shape, 4)));
  const viaLayer = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => weigh(c.layer.apply(input) as tf.Tensor) as tf.Scalar, [input, ...weights]);
    value.dispose();
    return [input, ...weights].map((v) => grads[v.name]!.dataSync() as Float32Array);
  });
  const composed = tf.tidy(() =>
    tf.grads((i: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => weigh(c.separately(i as tf.Tensor4D, k as tf.Tensor4D, b)))([c.x, c.kernel, c.bias]).map((g) => g.dataSync() as Float32Array),
  );
  assert.equal(viaLayer.length, 3);
  viaLayer.forEach((g, j) => g.forEach((v, i) => assert.ok(Math.abs(v - composed[j]![i]!) <= 1e-4 * (1 + Math.abs(composed[j]![i]!)), `gradient ${j}[${i}] ${v} against ${composed[j]![i]}`)));
  input.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
  tf.dispose([c.x, c.kernel, c.bias]);
  model.dispose();
}

const DEPTHWISE_CASES = [
  { activation: 'relu6', strides: 1, padding: 'same' as const, multiplier: 1 },
  { activation: 'relu', strides: 2, padding: 'valid' as const, multiplier: 2 },
  { activation: 'linear', strides: 1, padding: 'valid' as const, multiplier: 1 },
  { activation: 'elu', strides: 2, padding: 'same' as const, multiplier: 1 },
];

// keras-bridge's runtime runs tfjs-layers' DepthwiseConv2D as tfjs-core's fused depthwise
// convolution, its Conv2D with relu6 as a fused convolution, and the relu6 activation as one Relu6
// (src/layers/fixes/): the same values, fewer ops.
describe('fewer operations for DepthwiseConv2D, Conv2D with relu6, relu6, ReLU(max_value=6) and LayerNormalization (src/layers/fixes/)', function () {
  this.timeout(120_000);
  restoresBackend();

  for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
    describe(backend, () => {
      before(async function () {
        if (!(await probeBackend(backend)).available) this.skip();
        await useBackend(backend);
      });

      for (const c of DEPTHWISE_CASES) {
        it(`DepthwiseConv2D (${c.activation}, strides ${c.strides}, ${c.padding}, multiplier ${c.multiplier}) predicts in one fused kernel what the three operations compute; gradients too`, async () => {
          await checkFused(
            {
              layer: tf.layers.depthwiseConv2d({ kernelSize: 3, strides: c.strides, padding: c.padding, depthMultiplier: c.multiplier, activation: c.activation as 'relu', inputShape: [7, 6, 3] }),
              kernel: values([3, 3, 3, c.multiplier], 1),
              bias: values([3 * c.multiplier], 2),
              x: values([2, 7, 6, 3], 3, 10) as tf.Tensor4D,
              separately: (x, kernel, bias) => activate(tf.add(tf.depthwiseConv2d(x, kernel, c.strides, c.padding), bias), c.activation),
              fusedKernel: 'FusedDepthwiseConv2D',
              activation: c.activation,
            },
            backend,
          );
        });
      }

      it('Conv2D with relu6 (strides 2, same) predicts in one fused kernel what the separate operations compute; gradients too', async () => {
        await checkFused(
          {
            layer: tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu6', inputShape: [7, 6, 3] }),
            kernel: values([3, 3, 3, 4], 7),
            bias: values([4], 8),
            x: values([2, 7, 6, 3], 9, 10) as tf.Tensor4D,
            separately: (x, kernel, bias) => activate(tf.add(tf.conv2d(x, kernel, 2, 'same'), bias), 'relu6'),
            fusedKernel: 'FusedConv2D',
            activation: 'relu6',
          },
          backend,
        );
      });

      for (const kind of ['Conv2D', 'DepthwiseConv2D'] as const) {
        it(`${kind} with a linear activation, under weight gradients only, runs its fused kernel (convolution and bias in one pass) and computes no gradient for its input; the weights' gradients are the separate operations', and so is the input's where asked for`, async () => {
          const layer =
            kind === 'Conv2D'
              ? tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', inputShape: [7, 6, 3] })
              : tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', inputShape: [7, 6, 3] });
          const model = tf.sequential({ layers: [layer] });
          const kernel = values(kind === 'Conv2D' ? [3, 3, 3, 4] : [3, 3, 3, 1], 41);
          const bias = values([kind === 'Conv2D' ? 4 : 3], 42);
          layer.setWeights([kernel, bias]);
          const x = values([2, 7, 6, 3], 43) as tf.Tensor4D;
          const separately = (k: tf.Tensor, b: tf.Tensor) => tf.add(kind === 'Conv2D' ? tf.conv2d(x, k as tf.Tensor4D, 2, 'same') : tf.depthwiseConv2d(x, k as tf.Tensor4D, 2, 'same'), b);
          const weigh = (y: tf.Tensor) => tf.sum(tf.mul(y, values(y.shape, 44)));
          const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
          let viaLayer: Float32Array[] = [];
          const profile = await tf.profile(() => {
            viaLayer = tf.tidy(() => {
              const { value, grads } = tf.variableGrads(() => weigh(layer.apply(x) as tf.Tensor) as tf.Scalar, weights);
              value.dispose();
              return weights.map((w) => grads[w.name]!.dataSync() as Float32Array);
            });
          });
          const kernels = profile.kernels.map((k) => k.name);
          const inputGradient = kind === 'Conv2D' ? 'Conv2DBackpropInput' : 'DepthwiseConv2dNativeBackpropInput';
          assert.ok(!kernels.includes(inputGradient), kernels.join(', '));
          assert.ok(kernels.includes(kind === 'Conv2D' ? 'Conv2DBackpropFilter' : 'DepthwiseConv2dNativeBackpropFilter'), kernels.join(', '));
          // The bias in the convolution's own pass: no add over its output (tfjs-node's own
          // FusedDepthwiseConv2D kernel adds its bias as a second TensorFlow op, inside the kernel).
          assert.ok(kernels.includes(kind === 'Conv2D' ? 'FusedConv2D' : 'FusedDepthwiseConv2D'), kernels.join(', '));
          if (kind === 'Conv2D' || backend !== 'tensorflow') assert.ok(!kernels.includes('Add'), kernels.join(', '));
          const expected = tf.tidy(() => tf.grads((k: tf.Tensor, b: tf.Tensor) => weigh(separately(k, b)))([kernel, bias]).map((g) => g.dataSync() as Float32Array));
          viaLayer.forEach((g, j) => g.forEach((v, i) => assert.equal(v, expected[j]![i]!, `gradient ${j}[${i}]`)));
          const inputGradientViaLayer = tf.tidy(() => tf.grad((input: tf.Tensor) => weigh(layer.apply(input) as tf.Tensor))(x).dataSync() as Float32Array);
          const expectedInputGradient = tf.tidy(() => tf.grad((input: tf.Tensor) => weigh(tf.add(kind === 'Conv2D' ? tf.conv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, 2, 'same') : tf.depthwiseConv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, 2, 'same'), bias)))(x).dataSync() as Float32Array);
          inputGradientViaLayer.forEach((v, i) => assert.equal(v, expectedInputGradient[i]!, `input gradient [${i}]`));
          tf.dispose([x, kernel, bias]);
          model.dispose();
        });
      }

      it("DepthwiseConv2D with an activation no fused kernel applies (sigmoid) keeps tfjs-layers' own call", async () => {
        const layer = tf.layers.depthwiseConv2d({ kernelSize: 3, activation: 'sigmoid', inputShape: [5, 5, 2] });
        const model = tf.sequential({ layers: [layer] });
        const x = values([1, 5, 5, 2], 5);
        const profile = await tf.profile(() => tf.tidy(() => void (model.predict(x) as tf.Tensor).dataSync()));
        const kernels = profile.kernels.map((k) => k.name);
        assert.ok(kernels.includes('DepthwiseConv2dNative') && kernels.includes('Sigmoid') && !kernels.includes('FusedDepthwiseConv2D'), kernels.join(', '));
        x.dispose();
        model.dispose();
      });

      it('the relu6 activation is one Relu6: min(6, max(0, x)), its gradient 1 strictly between 0 and 6', async () => {
        const layer = tf.layers.activation({ activation: 'relu6', inputShape: [7] });
        const x = tf.tensor2d([[-3, -0, 0.5, 5.999, 6.5, 7.5, 1e9]]);
        let out: number[] = [];
        const profile = await tf.profile(() => {
          out = tf.tidy(() => Array.from((layer.apply(x) as tf.Tensor).dataSync()));
        });
        assert.deepEqual(profile.kernels.map((k) => k.name), ['Relu6']);
        // + 0: TensorFlow's Relu6 (as Keras's) keeps the sign of -0.
        assert.deepEqual(out.map((v) => v + 0), [0, 0, 0.5, Math.fround(5.999), 6, 6, 6]);
        const grad = tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(x).dataSync()));
        assert.deepEqual(grad, [0, 0, 1, 1, 0, 0, 0]);
        x.dispose();
      });

      it('the ReLU layer with max_value 6 is one Relu6, as Keras computes it; other caps keep relu then clip', async () => {
        const x = tf.tensor2d([[-3, -0, 0.5, 2.5, 5.999, 6.5, 1e9]]);
        const run = async (maxValue: number) => {
          const layer = tf.layers.reLU({ maxValue, inputShape: [7] });
          let out: number[] = [];
          const profile = await tf.profile(() => {
            out = tf.tidy(() => Array.from((layer.apply(x) as tf.Tensor).dataSync()));
          });
          const grad = tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(x).dataSync()));
          return { kernels: profile.kernels.map((k) => k.name), out: out.map((v) => v + 0), grad };
        };
        const six = await run(6);
        assert.deepEqual(six.kernels, ['Relu6']);
        assert.deepEqual(six.out, [0, 0, 0.5, 2.5, Math.fround(5.999), 6, 6]);
        assert.deepEqual(six.grad, [0, 0, 1, 1, 1, 0, 0]);
        const two = await run(2);
        assert.deepEqual(two.kernels, ['Relu', 'ClipByValue']);
        assert.deepEqual(two.out, [0, 0, 0.5, 2, 2, 2, 2]);
        x.dispose();
      });

      it('LayerNormalization tiles nothing: (x - mean) / sqrt(var + eps) * gamma + beta, as Keras computes it; gradients too', async () => {
        const layer = tf.layers.layerNormalization({ axis: -1, epsilon: 1e-3, inputShape: [5, 8] });
        tf.sequential({ layers: [layer] });
        const gamma = values([8], 21);
        const beta = values([8], 22);
        layer.setWeights([gamma, beta]);
        const x = values([3, 5, 8], 23, 4);
        const byDefinition = (t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const { mean, variance } = tf.moments(t, [2], true);
          return tf.add(tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-3))), g), b);
        };
        let out: Float32Array = new Float32Array();
        const profile = await tf.profile(() => {
          out = tf.tidy(() => (layer.apply(x) as tf.Tensor).dataSync() as Float32Array);
        });
        const kernels = profile.kernels.map((k) => k.name);
        assert.ok(!kernels.includes('Tile') && !kernels.includes('FusedBatchNorm'), kernels.join(', '));
        const expected = tf.tidy(() => byDefinition(x, gamma, beta).dataSync() as Float32Array);
        out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-5 * (1 + Math.abs(expected[i]!)), `[${i}] ${v} against ${expected[i]}`));
        const weigh = (y: tf.Tensor) => tf.sum(tf.mul(y, values(y.shape, 24)));
        const input = tf.variable(x);
        const [g, b] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        const viaLayer = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => weigh(layer.apply(input) as tf.Tensor) as tf.Scalar, [input, g!, b!]);
          value.dispose();
          return [input, g!, b!].map((v) => grads[v.name]!.dataSync() as Float32Array);
        });
        const composed = tf.tidy(() => tf.grads((t: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => weigh(byDefinition(t, gg, bb)))([x, gamma, beta]).map((t) => t.dataSync() as Float32Array));
        viaLayer.forEach((grad, j) => grad.forEach((v, i) => assert.ok(Math.abs(v - composed[j]![i]!) <= 1e-4 * (1 + Math.abs(composed[j]![i]!)), `gradient ${j}[${i}] ${v} against ${composed[j]![i]}`)));
        tf.dispose([x, gamma, beta, input]);
        layer.dispose();
      });
    });
  }
});
