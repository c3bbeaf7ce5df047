import assert from 'node:assert/strict';
import tf from '#tfjs';
import { activeBackendName, probeBackend, useBackend } from '../../src/backends/index.js';
import { onednnFusedConvolutionRuns } from '../../src/backends/kernel-fixes/tensorflow-fused.js';

/** Deterministic values in (-1, 1), different for each seed. */
function values(shape: number[], seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 7919 + i * 12.9898)), shape);
}

interface FusedCase {
  run: () => tf.Tensor;
  /** The fused ops oneDNN's op runs it with, where it runs (else tfjs-node's own kernels: Conv2D, Add, activation); null: never fused. */
  fused: string[] | null;
}

const conv = (activation: tf.fused.Activation | undefined, bias = true, leakyreluAlpha?: number) => () =>
  tf.fused.conv2d({
    x: values([2, 7, 6, 3], 1) as tf.Tensor4D,
    filter: values([3, 3, 3, 4], 2) as tf.Tensor4D,
    strides: 2,
    pad: 'same',
    ...(bias ? { bias: values([4], 3) } : {}),
    ...(activation ? { activation } : {}),
    ...(leakyreluAlpha !== undefined ? { leakyreluAlpha } : {}),
  });

const CASES: Record<string, FusedCase> = {
  'conv2d + bias': { run: conv(undefined), fused: ['BiasAdd'] },
  'conv2d + bias + relu': { run: conv('relu'), fused: ['BiasAdd', 'Relu'] },
  'conv2d + bias + relu6': { run: conv('relu6'), fused: ['BiasAdd', 'Relu6'] },
  'conv2d + bias + elu': { run: conv('elu'), fused: ['BiasAdd', 'Elu'] },
  'conv2d + bias + leaky relu 0.3': { run: conv('leakyrelu', true, 0.3), fused: ['BiasAdd', 'LeakyRelu'] },
  'conv2d + relu, no bias (TensorFlow fuses none)': { run: conv('relu', false), fused: null },
  'conv2d + bias + sigmoid (TensorFlow fuses none)': { run: conv('sigmoid'), fused: null },
  // TensorFlow's CPU _FusedDepthwiseConv2dNative returned an empty tensor (Eigen, oneDNN off): not used.
  'depthwise conv2d, multiplier 2, valid + bias + relu (tfjs-node\'s three ops)': {
    run: () => tf.fused.depthwiseConv2d({ x: values([1, 6, 6, 3], 4) as tf.Tensor4D, filter: values([3, 3, 3, 2], 5) as tf.Tensor4D, strides: 1, pad: 'valid', bias: values([6], 6), activation: 'relu' }),
    fused: null,
  },
};

/** The TensorFlow ops `run` dispatches through tfjs-node's backend, by name. */
function tensorflowOpsOf(run: () => void): string[] {
  const backend = tf.backend() as unknown as { executeMultipleOutputs: (name: string, ...rest: unknown[]) => unknown; executeSingleOutput: (name: string, ...rest: unknown[]) => unknown };
  const names: string[] = [];
  const originals = { multiple: backend.executeMultipleOutputs, single: backend.executeSingleOutput };
  backend.executeMultipleOutputs = function (name, ...rest) {
    names.push(name);
    return originals.multiple.call(this, name, ...rest);
  };
  backend.executeSingleOutput = function (name, ...rest) {
    names.push(name);
    return originals.single.call(this, name, ...rest);
  };
  try {
    run();
  } finally {
    backend.executeMultipleOutputs = originals.multiple;
    backend.executeSingleOutput = originals.single;
  }
  return names;
}

// oneDNN's _MklNativeFusedConv2D on the tensorflow backend, never TensorFlow's _FusedConv2D
// (tensorflow-fused.ts); both need keras-bridge's build of tfjs-node's binding (list attributes).
describe('fused convolutions in one TensorFlow op on the tensorflow backend (tensorflow-fused.ts)', function () {
  let previous: string | undefined;
  const onCpu = new Map<string, Float32Array>();
  const cpuShapes = new Map<string, number[]>();

  before(async function () {
    if (!(await probeBackend('tensorflow')).available) this.skip();
    previous = activeBackendName();
    await useBackend('cpu');
    for (const [name, c] of Object.entries(CASES)) {
      onCpu.set(
        name,
        tf.tidy(() => {
          const y = c.run();
          cpuShapes.set(name, y.shape);
          return y.dataSync() as Float32Array;
        }),
      );
    }
  });

  after(async function () {
    if (previous) await tf.setBackend(previous);
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: ${c.fused ? "one oneDNN op where TensorFlow has it, no separate Add or activation, never TensorFlow's _FusedConv2D" : "tfjs-node's kernel"}, as cpu computes it`, async function () {
      await useBackend('tensorflow');
      const before = tf.memory().numTensors;
      let result: Float32Array | undefined;
      let shape: number[] = [];
      let ops: string[] = [];
      const profile = await tf.profile(() => {
        ops = tensorflowOpsOf(() => {
          result = tf.tidy(() => {
            const y = c.run();
            shape = y.shape;
            return y.dataSync() as Float32Array;
          });
        });
      });
      assert.equal(tf.memory().numTensors, before, 'tensors left behind');
      assert.ok(!ops.includes('_FusedConv2D'), `dispatched ${ops.join(', ')}`);
      const kernels = profile.kernels.map((k) => k.name);
      const separate = kernels.filter((k) => ['Add', 'Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Conv2D', 'DepthwiseConv2dNative'].includes(k));
      const fused = c.fused !== null && onednnFusedConvolutionRuns(c.fused) === true;
      if (fused) assert.deepEqual(separate, [], `ran ${kernels.join(', ')}`);
      else assert.ok(separate.length > 0, `ran ${kernels.join(', ')}`);
      if (fused) assert.ok(ops.includes('_MklNativeFusedConv2D'), `dispatched ${ops.join(', ')}`);
      const expected = onCpu.get(name)!;
      // The same shape and size as cpu's (an op that returns an empty tensor fails here, not vacuously below).
      assert.deepEqual(shape, cpuShapes.get(name));
      assert.equal(result!.length, expected.length);
      result!.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-5 * (1 + Math.abs(expected[i]!)), `${name}[${i}]: ${v} against cpu's ${expected[i]}`));
    });
  }

  it("ClipByValue (a ReLU capped at 6) is TensorFlow's one op, as cpu computes it", async function () {
    const clip = async (backend: 'cpu' | 'tensorflow') => {
      await useBackend(backend);
      let out: number[] = [];
      const profile = await tf.profile(() => {
        out = tf.tidy(() => Array.from(tf.clipByValue(tf.tensor1d([-3, -0, 0.5, 5.999, 6, 7.5, 1e9]), 0, 6).dataSync()));
      });
      return { out, kernels: profile.kernels.map((k) => k.name) };
    };
    const [cpu, native] = [await clip('cpu'), await clip('tensorflow')];
    assert.deepEqual(native.out, cpu.out);
    assert.ok(!native.kernels.includes('Minimum') && !native.kernels.includes('Maximum'), native.kernels.join(', '));
  });

  it("Relu6 is TensorFlow's one op, as cpu computes it", async function () {
    const relu6 = async (backend: 'cpu' | 'tensorflow') => {
      await useBackend(backend);
      let out: number[] = [];
      const profile = await tf.profile(() => {
        out = tf.tidy(() => Array.from(tf.relu6(tf.tensor1d([-3, -0, 0.5, 5.999, 6, 7.5, 1e9])).dataSync()));
      });
      return { out, kernels: profile.kernels.map((k) => k.name) };
    };
    const [cpu, native] = [await relu6('cpu'), await relu6('tensorflow')];
    // Equal as numbers: TensorFlow keeps the sign of -0, tfjs's cpu kernel does not.
    assert.deepEqual(native.out.map((v) => v + 0), cpu.out.map((v) => v + 0));
    assert.deepEqual(native.kernels, ['Relu6']);
  });

  it('the gradients through a fused convolution are what they were: tfjs-core computes them from its saved output', async function () {
    const grads = async (backend: 'cpu' | 'tensorflow') => {
      await useBackend(backend);
      return tf.tidy(() => {
        const x = values([1, 5, 5, 2], 7);
        const w = values([3, 3, 2, 3], 8);
        const b = values([3], 9);
        const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: 1, pad: 'same', bias: bb, activation: 'relu' }));
        return tf.grads(f)([x, w, b]).map((g) => Array.from(g.dataSync()));
      });
    };
    const [cpu, native] = [await grads('cpu'), await grads('tensorflow')];
    native.forEach((g, k) => g.forEach((v, i) => assert.ok(Math.abs(v - cpu[k]![i]!) <= 1e-5 * (1 + Math.abs(cpu[k]![i]!)), `gradient ${k}[${i}]`)));
  });
});
