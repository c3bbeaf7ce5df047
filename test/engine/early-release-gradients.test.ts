import assert from 'node:assert/strict';
import tf from '#tfjs';
import '../../src/runtime.js';
import { probeBackend, useBackend } from '../../src/backends/index.js';
import { installEarlyReleaseGradients, restoreTfjsGradients } from '../../src/engine/early-release-gradients.js';
import { values } from '../support/sine-values.js';
import { restoresBackend } from '../support/backend-suite.js';

interface GradientCase {
  /** The function of xs whose gradients are taken. */
  f: (...xs: tf.Tensor[]) => tf.Tensor;
  xs: () => tf.Tensor[];
  dy?: () => tf.Tensor;
}

// A gradient function that hands dy on as the input's gradient, unchanged (the same tensor object).
const passThrough = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return { value: tf.mul(x, 1), gradFunc: (dy: tf.Tensor) => [dy] };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

const CASES: Record<string, GradientCase> = {
  'a chain of dense layers': {
    f: (x, w1, w2) => tf.sum(tf.tanh(tf.matMul(tf.relu(tf.matMul(x!, w1!)), w2!))),
    xs: () => [values([4, 6], 1), values([6, 8], 2), values([8, 3], 3)],
  },
  'one input used twice, and a multi-output op (split) with an output off the path': {
    f: (x) => {
      const [a, b, unused] = tf.split(tf.mul(x!, x!), 3, 1);
      void unused;
      return tf.sum(tf.add(tf.mul(a!, 2), tf.square(b!)));
    },
    xs: () => [values([2, 6], 4)],
  },
  'a convolution and a batch norm, dy given': {
    f: (x, k, scale) => tf.batchNorm(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, 'same'), tf.zeros([2]), tf.ones([2]), tf.zeros([2]), scale!),
    xs: () => [values([1, 5, 5, 3], 5), values([3, 3, 3, 2], 6), values([2], 7)],
    dy: () => values([1, 5, 5, 2], 8),
  },
  'a custom gradient that hands dy on unchanged, twice on one path': {
    f: (x, w) => tf.sum(tf.mul(passThrough(passThrough(tf.mul(x!, w!))), passThrough(x!))),
    xs: () => [values([3, 4], 9), values([4], 10)],
  },
  'x reaches y through one input only; another x is unused': {
    f: (x) => tf.sum(tf.concat([tf.exp(x!), tf.ones([2, 3])], 0)),
    xs: () => [values([2, 3], 11)],
  },
};

function gradients(c: GradientCase): Float32Array[] {
  return tf.tidy(() => {
    const xs = c.xs();
    const dy = c.dy?.();
    const grads = tf.grads((...args: tf.Tensor[]) => c.f(...args))(xs, dy);
    return grads.map((g) => g.dataSync() as Float32Array);
  });
}

/**
 * The most data buffers alive at once while computing the case's gradients, sampled after every
 * kernel (tf.profile's peakBytes counts each tensor object, and a kept tensor shares its buffer).
 */
function peakBuffers(c: GradientCase): number {
  const engine = tf.engine() as unknown as { runKernelFunc: (...args: unknown[]) => unknown; state: { numDataBuffers: number } };
  const run = engine.runKernelFunc;
  // Counted from the buffers alive before (other tests' models and tensors share the engine).
  const baseline = engine.state.numDataBuffers;
  let peak = 0;
  engine.runKernelFunc = function (this: unknown, ...args: unknown[]) {
    const result = run.apply(this, args);
    peak = Math.max(peak, engine.state.numDataBuffers - baseline);
    return result;
  };
  try {
    tf.tidy(() => void tf.grads((...args: tf.Tensor[]) => c.f(...args))(c.xs()));
  } finally {
    engine.runKernelFunc = run;
  }
  return peak;
}

// keras-bridge's runtime installs it on import (src/engine/early-release-gradients.ts).
describe("the backward pass releases each gradient and saved tensor once used: tfjs-core's results, less memory", function () {
  this.timeout(120_000);
  restoresBackend();
  after(() => {
    installEarlyReleaseGradients();
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    describe(backend, () => {
      before(async function () {
        if (!(await probeBackend(backend)).available) this.skip();
        await useBackend(backend);
      });

      for (const [name, c] of Object.entries(CASES)) {
        it(`${name}: the same gradients as tfjs-core's walk, bit for bit, and no tensor left`, () => {
          restoreTfjsGradients();
          const expected = gradients(c);
          installEarlyReleaseGradients();
          const before = tf.memory().numTensors;
          const actual = gradients(c);
          assert.equal(tf.memory().numTensors, before, 'tensors left behind');
          assert.equal(actual.length, expected.length);
          actual.forEach((g, k) => assert.deepEqual(Array.from(g), Array.from(expected[k]!), `gradient ${k}`));
        });
      }

      it("a deep chain: fewer buffers alive at the peak than with tfjs-core's walk (which holds every intermediate gradient to the end)", async () => {
        const chain: GradientCase = {
          f: (x, w) => {
            let h = x!;
            for (let i = 0; i < 24; i++) h = tf.tanh(tf.matMul(h, w!));
            return tf.sum(h);
          },
          xs: () => [values([64, 64], 12), values([64, 64], 13, 0.2)],
        };
        restoreTfjsGradients();
        const tfjsPeak = peakBuffers(chain);
        installEarlyReleaseGradients();
        const peak = peakBuffers(chain);
        // Every step keeps its matMul's and its tanh's outputs for their gradients: about 50
        // buffers at the end of the forward pass, either way. tfjs-core then holds every step's
        // gradients (dtanh, dh, dw and their running sums) to the end; this walk, the ones in flight.
        assert.ok(peak < 0.6 * tfjsPeak, `peak ${peak} buffers against tfjs-core's ${tfjsPeak}`);
      });

      it('a gradient of a gradient (tfjs-core keeps the inner tape for the outer one) is tfjs-core\'s', () => {
        const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.sin(x), tf.square(x)));
        const second = () => tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(tf.grad(f)(x)))(values([5], 14)).dataSync()));
        restoreTfjsGradients();
        const expected = second();
        installEarlyReleaseGradients();
        const before = tf.memory().numTensors;
        assert.deepEqual(second(), expected);
        assert.equal(tf.memory().numTensors, before);
      });

      it("model.fit trains to the same losses and weights as with tfjs-core's walk", async () => {
        const train = async () => {
          const model = tf.sequential({
            layers: [
              tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 2], kernelInitializer: tf.initializers.constant({ value: 0.1 }) }),
              tf.layers.batchNormalization(),
              tf.layers.flatten(),
              tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.constant({ value: -0.05 }) }),
            ],
          });
          const optimizer = tf.train.sgd(0.05);
          model.compile({ optimizer, loss: 'meanSquaredError' });
          const x = values([8, 6, 6, 2], 15);
          const y = values([8, 2], 16);
          const history = await model.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
          const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
          tf.dispose([x, y]);
          model.dispose();
          optimizer.dispose();
          return { losses: history.history['loss'], weights };
        };
        restoreTfjsGradients();
        const expected = await train();
        installEarlyReleaseGradients();
        const before = tf.memory().numTensors;
        assert.deepEqual(await train(), expected);
        assert.equal(tf.memory().numTensors, before);
      });

      it('a pass that throws, backward or forward (wasm out of memory, a failing gradient), leaves no tensor behind: not what the tape saved, not the forward result', () => {
        const failing = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
          save([x]);
          return { value: tf.mul(x, 2), gradFunc: () => { throw new Error('this gradient fails'); } };
        }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
        const x = values([3, 4], 11);
        const w = tf.variable(values([4, 4], 12));
        const before = tf.memory().numTensors;
        // tanh and matMul save their inputs and output: tensors the tape holds when the pass fails.
        assert.throws(() => tf.variableGrads(() => tf.sum(tf.tanh(failing(tf.matMul(x, w)))) as tf.Scalar, [w]), /this gradient fails/);
        assert.equal(tf.memory().numTensors, before);
        // The same when the forward pass throws, after the tape has saved tensors.
        const failsForward = tf.customGrad(((v: tf.Tensor) => {
          throw new Error('this forward pass fails');
        }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
        assert.throws(() => tf.variableGrads(() => tf.sum(failsForward(tf.tanh(tf.matMul(x, w)))) as tf.Scalar, [w]), /this forward pass fails/);
        assert.equal(tf.memory().numTensors, before);
        // The engine works on: the next gradient is right.
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.matMul(x, w)) as tf.Scalar, [w]);
        assert.equal(grads[w.name]!.shape.join(','), '4,4');
        tf.dispose([x, w, value, grads[w.name]!]);
      });

      it("f not reaching x fails as tfjs-core's does; variableGrads allows it", () => {
        const x = tf.scalar(2);
        assert.throws(() => tf.grad(() => tf.scalar(3))(x), /Cannot compute gradient of y=f\(x\) with respect to x/);
        const v = tf.variable(tf.scalar(1));
        const unused = tf.variable(tf.scalar(5));
        const { value, grads } = tf.variableGrads(() => tf.mul(v, 3) as tf.Scalar, [v, unused]);
        assert.deepEqual(Object.keys(grads), [v.name]);
        assert.equal(grads[v.name]!.dataSync()[0], 3);
        tf.dispose([x, v, unused, value, grads[v.name]!]);
      });
    });
  }
});
