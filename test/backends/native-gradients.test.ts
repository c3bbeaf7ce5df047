import assert from 'node:assert/strict';
import tf from '#tfjs';
import { activeBackendName, probeBackend, useBackend } from '../../src/backends/index.js';
import { NATIVE_GRADIENTS } from '../../src/backends/kernel-fixes/native-gradients.js';

/** Inputs around each activation's kinks and saturation, with exact zeros; no value sits on a kink but 0. */
const X = [-7, -3.25, -1, -0.5, -1e-3, 0, 1e-3, 0.25, 0.5, 1, 2.5, 5.75, 6.5, 9];

/** A forward op per kernel of NATIVE_GRADIENTS, as layers call them. */
const FORWARD: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  Relu: (x) => tf.relu(x),
  Relu6: (x) => tf.relu6(x),
  LeakyRelu: (x) => tf.leakyRelu(x, 0.3),
  Sigmoid: (x) => tf.sigmoid(x),
  Tanh: (x) => tf.tanh(x),
};

interface GradientRun {
  gradient: Float32Array;
  kernels: string[];
}

/** dL/dx of L = sum(f(x)·w), and the kernels the run dispatched. */
async function gradientOf(f: (x: tf.Tensor) => tf.Tensor): Promise<GradientRun> {
  const x = tf.tensor(X, [2, X.length / 2]);
  const w = tf.tensor(X.map((_, i) => Math.cos(i * 1.7) + 0.1), x.shape);
  let gradient: Float32Array | undefined;
  const profile = await tf.profile(() => {
    const g = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(f(input), w)))(x);
    gradient = g.dataSync() as Float32Array;
    g.dispose();
  });
  tf.dispose([x, w]);
  return { gradient: gradient!, kernels: profile.kernels.map((k) => k.name) };
}

describe("activation gradients in one TensorFlow op on the tensorflow backend (native-gradients.ts)", function () {
  let previous: string | undefined;
  let tensorflow = false;
  const onCpu = new Map<string, GradientRun>();

  before(async function () {
    previous = activeBackendName();
    tensorflow = (await probeBackend('tensorflow')).available;
    await useBackend('cpu');
    for (const spec of NATIVE_GRADIENTS) onCpu.set(spec.kernelName, await gradientOf(FORWARD[spec.kernelName]!));
  });

  after(async function () {
    await tf.setBackend(previous ?? 'cpu');
  });

  it('every kernel of NATIVE_GRADIENTS has a forward op here', function () {
    for (const spec of NATIVE_GRADIENTS) assert.ok(FORWARD[spec.kernelName], spec.kernelName);
  });

  for (const spec of NATIVE_GRADIENTS) {
    it(`${spec.kernelName}: cpu computes it without the kernel; tensorflow runs ${spec.tensorflowOp} alone and agrees to float32 rounding`, async function () {
      const cpu = onCpu.get(spec.kernelName)!;
      assert.ok(!cpu.kernels.includes(spec.gradientKernel), `cpu ran ${spec.gradientKernel}`);
      if (!tensorflow) this.skip();
      await useBackend('tensorflow');
      const before = tf.memory().numTensors;
      const native = await gradientOf(FORWARD[spec.kernelName]!);
      assert.equal(tf.memory().numTensors, before, 'tensors left behind');
      assert.ok(native.kernels.includes(spec.gradientKernel), `tensorflow ran ${native.kernels.join(', ')}`);
      // Besides the forward op and the loss, the gradient is one kernel: no Step, Select or Fill.
      for (const composed of ['Step', 'Select', 'Fill', 'Greater', 'LessEqual']) assert.ok(!native.kernels.includes(composed), `${composed} ran: ${native.kernels.join(', ')}`);
      native.gradient.forEach((g, i) => {
        const expected = cpu.gradient[i]!;
        // Sigmoid and tanh multiply in another order: a few ulps of the products.
        assert.ok(Math.abs(g - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${spec.kernelName} at x = ${X[i]}: ${g} against tfjs-core's ${expected}`);
      });
    });
  }

  it("TensorFlow's edges are Keras's: relu6's gradient is 0 at x = 6, relu's is 0 at NaN", async function () {
    if (!tensorflow) this.skip();
    await useBackend('tensorflow');
    const at = (f: (x: tf.Tensor) => tf.Tensor, value: number) => tf.tidy(() => tf.grad(f)(tf.tensor1d([value])).dataSync()[0]);
    assert.equal(at((x) => tf.relu6(x), 6), 0);
    assert.equal(at((x) => tf.relu6(x), 5.5), 1);
    assert.equal(at((x) => tf.relu(x), Number.NaN), 0);
  });

  it("Relu6's gradient on wasm in one SIMD pass (wasm-relu-gradients.ts): tfjs-core's values, but 0 at x = 6 and at NaN, as Keras; no LessEqual", async function () {
    if (!(await probeBackend('wasm')).available) this.skip();
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const composed = await gradientOf(FORWARD['Relu6']!);
    assert.equal(tf.memory().numTensors, before, 'tensors left behind');
    assert.ok(composed.kernels.includes('KerasBridgeRelu6Grad'), composed.kernels.join(', '));
    for (const slow of ['LessEqual', 'Step']) assert.ok(!composed.kernels.includes(slow), `${slow} ran: ${composed.kernels.join(', ')}`);
    assert.deepEqual(Array.from(composed.gradient), Array.from(onCpu.get('Relu6')!.gradient));
    const at = (value: number) => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.relu6(x))(tf.tensor1d([value])).dataSync()[0]);
    assert.deepEqual([at(6), at(5.5), at(0), at(-1), at(7), at(Number.NaN)], [0, 1, 0, 0, 0, 0]);
  });

  it("ReLU's gradient on wasm in one SIMD pass (wasm-relu-gradients.ts): tfjs-core's values, but 0 at NaN, as Keras; no Step", async function () {
    if (!(await probeBackend('wasm')).available) this.skip();
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const composed = await gradientOf(FORWARD['Relu']!);
    assert.equal(tf.memory().numTensors, before, 'tensors left behind');
    assert.ok(composed.kernels.includes('KerasBridgeReluGrad'), composed.kernels.join(', '));
    assert.ok(!composed.kernels.includes('Step'), `Step ran: ${composed.kernels.join(', ')}`);
    assert.deepEqual(Array.from(composed.gradient), Array.from(onCpu.get('Relu')!.gradient));
    const at = (value: number) => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.relu(x))(tf.tensor1d([value])).dataSync()[0]);
    assert.deepEqual([at(0), at(1e-30), at(-1), at(Number.POSITIVE_INFINITY), at(Number.NaN)], [0, 1, 0, 1, 0]);
  });

  it("ReLU's and ReLU6's gradients on wasm past 65,536 elements (cut among the kernel threads, a tail of 3) equal cpu's, element for element", async function () {
    if (!(await probeBackend('wasm')).available) this.skip();
    const size = 70_003;
    // Values across both caps, 0 and 6 exactly among them, no NaN (tfjs-core's cpu composition keeps it).
    const values = Float32Array.from({ length: size }, (_, i) => (i % 101 === 0 ? 0 : i % 103 === 0 ? 6 : ((i * 7919) % 1601) / 100 - 4));
    const gradients = async (backend: 'cpu' | 'wasm') => {
      await useBackend(backend);
      return tf.tidy(() => [tf.relu, tf.relu6].map((f) => tf.grad((x: tf.Tensor) => tf.mul(f(x), tf.range(0, size).div(size)).sum())(tf.tensor1d(values)).dataSync()));
    };
    const [onWasm, onCpuBackend] = [await gradients('wasm'), await gradients('cpu')];
    assert.deepEqual(Array.from(onWasm[0]!), Array.from(onCpuBackend[0]!), 'relu');
    assert.deepEqual(Array.from(onWasm[1]!), Array.from(onCpuBackend[1]!), 'relu6');
  });

  it("ReLU's and ReLU6's gradients keep their output, not their input (freed after the forward pass), on every backend", async function () {
    await useBackend('cpu');
    const savedBy = (f: (x: tf.Tensor) => tf.Tensor) => {
      let kept: { input: boolean; output: boolean } | undefined;
      tf.tidy(() =>
        tf.grad((x: tf.Tensor) => {
          const input = tf.sub(x, 1);
          const output = f(input);
          const node = (tf.engine().state as unknown as { activeTape: Array<{ kernelName: string; saved?: tf.Tensor[] }> }).activeTape.at(-1)!;
          // cpu's clone shares the data of what it saves.
          kept = { input: node.saved?.some((t) => t.dataId === input.dataId) ?? false, output: node.saved?.some((t) => t.dataId === output.dataId) ?? false };
          return tf.sum(output);
        })(tf.tensor1d(X)),
      );
      return kept;
    };
    assert.deepEqual(savedBy((x) => tf.relu(x)), { input: false, output: true });
    assert.deepEqual(savedBy((x) => tf.relu6(x)), { input: false, output: true });
  });

  it("ReLU6's gradient from its output where a backend lacks the kernel (cpu): TensorFlow's Relu6Grad, 0 at x = 6, where tfjs-core's gave 1", async function () {
    await useBackend('cpu');
    const at = (value: number) => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.relu6(x))(tf.tensor1d([value])).dataSync()[0]);
    assert.deepEqual([at(6), at(5.5), at(1e-3), at(0), at(-1), at(7)], [0, 1, 1, 0, 0, 0]);
  });

  it('Step on tensorflow: x > 0 ? 1 : alpha, NaN kept, as on cpu, in float32 and int32 (where the kernel of tfjs-node fails)', async function () {
    if (!tensorflow) this.skip();
    const inputs = [...X, Number.NaN, -0];
    const run = async (backend: 'cpu' | 'tensorflow', alpha: number) => {
      await useBackend(backend);
      return tf.tidy(() => Array.from(tf.step(tf.tensor1d(inputs), alpha).dataSync()));
    };
    for (const alpha of [0, 0.3]) assert.deepEqual(await run('tensorflow', alpha), await run('cpu', alpha), `alpha ${alpha}`);
    await useBackend('tensorflow');
    const ints = async (backend: 'cpu' | 'tensorflow') => { await useBackend(backend); return tf.tidy(() => Array.from(tf.step(tf.tensor1d([-2, 0, 3], 'int32'), 1.5).dataSync())); };
    assert.deepEqual(await ints('tensorflow'), await ints('cpu'));
  });
});
