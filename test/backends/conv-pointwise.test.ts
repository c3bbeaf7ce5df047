import assert from 'node:assert/strict';
import tf from '#tfjs';
import { pointwiseConvolutions, pointwiseFrom } from '../../src/backends/kernel-fixes/conv-pointwise.js';
import { derivedTensorCount } from '../../src/backends/kernel-fixes/derived-tensors.js';
import { wasmHeapKernels } from '../../src/backends/wasm-simd/wasm-heap-kernels.js';
import type { MultiplyAdd } from '../../src/backends/wasm-simd/relaxed-simd.js';
import { float32MultiplyAdd } from '../support/float32-multiply-add.js';
import { generator } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'leakyrelu';

interface PointwiseCase {
  shape: [number, number, number, number];
  outChannels: number;
  activation: Activation;
  bias: boolean;
  /** Height and width strides (1 unless given). */
  strides?: [number, number];
}

/** Random 1x1 convolutions: any input channel count (1 to 40), output channels 4 to 52 in vectors of 4 (whole 16-column panels, and not), strides 1 to 3 on odd and even sizes. */
function cases(count: number): PointwiseCase[] {
  const pick = generator(1717);
  const activations: Activation[] = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu'];
  return Array.from({ length: count }, (_, i) => ({
    ...(i % 3 === 0
      ? // Strided: sizes the strides divide (others are XNNPACK's, below).
        (([sh, sw]) => ({ shape: [1 + pick(3), sh * (1 + pick(4)), sw * (1 + pick(4)), 1 + pick(40)] as PointwiseCase['shape'], strides: [sh, sw] as [number, number] }))([1 + pick(3), 1 + pick(3)])
      : { shape: [1 + pick(3), 1 + pick(9), 1 + pick(9), 1 + pick(40)] as PointwiseCase['shape'], strides: [1, 1] as [number, number] }),
    outChannels: 4 * (1 + pick(13)),
    activation: activations[i % activations.length]!,
    bias: i % 4 !== 0,
  }));
}

/** The pixels a strided 1x1 filter reads, as an input of stride 1: every stride-th row and column from the first. */
function strided(c: PointwiseCase, x: Float32Array): { c: PointwiseCase; x: Float32Array } {
  const [n, h, w, ci] = c.shape;
  const [sh, sw] = c.strides ?? [1, 1];
  const [oh, ow] = [Math.ceil(h / sh), Math.ceil(w / sw)];
  const out = new Float32Array(n * oh * ow * ci);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++) out.set(x.subarray(((b * h + y * sh) * w + xo * sw) * ci, ((b * h + y * sh) * w + xo * sw + 1) * ci), ((b * oh + y) * ow + xo) * ci);
  return { c: { ...c, shape: [n, oh, ow, ci], strides: [1, 1] }, x: out };
}

function values(shape: number[], seed: number): Float32Array {
  const pick = generator(seed);
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => (pick(2001) - 1000) / 137);
}

/**
 * What the tiles compute before a non-clamping activation: per output pixel and channel, the sum
 * over input channels in order from 0, each multiply-add rounded as `multiplyAdd` says, then the
 * bias added (one rounding), then a relu or relu6 clamp.
 */
function expectedLinear(c: PointwiseCase, x: Float32Array, w: Float32Array, b: Float32Array | undefined, multiplyAdd: MultiplyAdd): Float32Array {
  const [n, h, wd, ci] = c.shape;
  const co = c.outChannels;
  const out = new Float32Array(n * h * wd * co);
  for (let pixel = 0; pixel < n * h * wd; pixel++)
    for (let o = 0; o < co; o++) {
      let sum = 0;
      for (let k = 0; k < ci; k++) sum = float32MultiplyAdd(x[pixel * ci + k]!, w[k * co + o]!, sum, multiplyAdd);
      if (b || c.activation === 'relu' || c.activation === 'relu6') sum = Math.fround(sum + (b ? b[o]! : 0));
      if (c.activation === 'relu') sum = Math.max(sum, 0);
      if (c.activation === 'relu6') sum = Math.min(Math.max(sum, 0), 6);
      out[pixel * co + o] = sum;
    }
  return out;
}

describe('wasm: 1x1 convolutions as one product in the SIMD tiles (src/backends/kernel-fixes/conv-pointwise.ts)', function () {
  onWasm({ activate: true });
  const threshold = pointwiseFrom.macs;
  afterEach(() => {
    pointwiseFrom.macs = threshold;
  });
  const multiplyAdd = () => wasmHeapKernels(tf.backend())!.productMultiplyAdd;

  const run = (c: PointwiseCase, x: Float32Array, w: tf.Tensor4D, b: Float32Array | undefined) =>
    tf.tidy(() =>
      tf.fused.conv2d({ x: tf.tensor4d(x, c.shape), filter: w, ...(b ? { bias: tf.tensor1d(b) } : {}), strides: c.strides ?? 1, pad: c.strides && c.strides[0] === 3 ? 'valid' : 'same', activation: c.activation, leakyreluAlpha: 0.3 }).dataSync() as Float32Array,
    );

  it('60 random 1x1 convolutions (each activation, bias or none, strides 1 to 3) equal the tiles\' sums, the bias and the activation bit for bit, and XNNPACK\'s within float32 rounding', () => {
    pointwiseFrom.macs = 0;
    const tensors = tf.memory().numTensors;
    cases(60).forEach((c, i) => {
      const x = values(c.shape, 3 * i + 1);
      const wValues = values([c.shape[3], c.outChannels], 3 * i + 2);
      const b = c.bias ? values([c.outChannels], 3 * i + 3) : undefined;
      const w = tf.tensor4d(wValues, [1, 1, c.shape[3], c.outChannels]);
      const read = strided(c, x);
      const linear = expectedLinear(read.c, read.x, wValues, b, multiplyAdd());
      const expected = tf.tidy(() => {
        const t = tf.tensor(linear, [...read.c.shape.slice(0, 3), c.outChannels]);
        const after: Record<Activation, () => tf.Tensor> = { linear: () => t, relu: () => t, relu6: () => t, elu: () => tf.elu(t), leakyrelu: () => tf.leakyRelu(t, 0.3) };
        return after[c.activation]().dataSync() as Float32Array;
      });
      const before = pointwiseConvolutions.count;
      const got = run(c, x, w, b);
      assert.equal(pointwiseConvolutions.count - before, 1, `case ${i} ran in the tiles`);
      assert.deepEqual(got, expected, `case ${i}: ${JSON.stringify(c)}`);
      pointwiseFrom.macs = Infinity;
      const xnnpack = run(c, x, w, b);
      pointwiseFrom.macs = 0;
      // XNNPACK starts its sums from the bias and never fuses: float32 rounding apart, within a dot product's bound.
      for (let j = 0; j < got.length; j++) assert.ok(Math.abs(got[j]! - xnnpack[j]!) <= 2 * (c.shape[3] + 1) * 2 ** -24 * (Math.abs(got[j]!) + 1000), `case ${i} at ${j}: ${got[j]} against XNNPACK's ${xnnpack[j]}`);
      w.dispose();
    });
    assert.equal(tf.memory().numTensors, tensors);
  });

  it('a convolution cut among the kernel threads (each chunk adding the bias to its own rows) gives the same values', () => {
    pointwiseFrom.macs = 0;
    const c: PointwiseCase = { shape: [2, 23, 19, 72], outChannels: 52, activation: 'relu6', bias: true };
    const x = values(c.shape, 91);
    const wValues = values([72, 52], 92);
    const b = values([52], 93);
    const w = tf.tensor4d(wValues, [1, 1, 72, 52]);
    assert.deepEqual(run(c, x, w, b), expectedLinear(c, x, wValues, b, multiplyAdd()));
    w.dispose();
  });

  it('packs the filter into scratch on its first use, keeps its panels from the second while its data lives, and frees them with it', () => {
    pointwiseFrom.macs = 0;
    const c: PointwiseCase = { shape: [1, 6, 6, 24], outChannels: 32, activation: 'linear', bias: false };
    const x = values(c.shape, 5);
    const wValues = values([24, 32], 6);
    const w = tf.tensor4d(wValues, [1, 1, 24, 32]);
    const expected = expectedLinear(c, x, wValues, undefined, multiplyAdd());
    const derived = derivedTensorCount(tf.backend());
    assert.deepEqual(run(c, x, w, undefined), expected);
    assert.equal(derivedTensorCount(tf.backend()), derived, 'nothing kept after one use');
    assert.deepEqual(run(c, x, w, undefined), expected);
    assert.deepEqual(run(c, x, w, undefined), expected);
    assert.equal(derivedTensorCount(tf.backend()), derived + 1, 'the panels kept from the second use');
    w.dispose();
    assert.equal(derivedTensorCount(tf.backend()), derived, 'and freed with the filter');
  });

  it('leaves explicit padding, strides that do not divide the size, other filters, output channels not in vectors of 4 and small convolutions to XNNPACK, and the input gradient matches cpu', async () => {
    const count = () => pointwiseConvolutions.count;
    const x = tf.tensor4d(values([1, 8, 8, 16], 1), [1, 8, 8, 16]);
    const before = count();
    pointwiseFrom.macs = 0;
    tf.tidy(() => tf.conv2d(x, tf.ones([1, 1, 16, 8]), 1, [[0, 0], [1, 0], [0, 1], [0, 0]]).dataSync());
    tf.tidy(() => tf.conv2d(x, tf.ones([1, 1, 16, 6]), 1, 'same').dataSync());
    tf.tidy(() => tf.conv2d(x, tf.ones([1, 1, 16, 8]), 3, 'same').dataSync());
    tf.tidy(() => tf.conv2d(x, tf.ones([2, 2, 16, 8]), 1, 'valid').dataSync());
    assert.equal(count(), before, 'none of them in the tiles');
    pointwiseFrom.macs = threshold;
    tf.tidy(() => tf.conv2d(x, tf.ones([1, 1, 16, 8]), 1, 'same').dataSync());
    assert.equal(count(), before, `${8 * 8 * 16 * 8} multiply-adds are under the threshold`);
    pointwiseFrom.macs = 0;
    const w = tf.tensor4d(values([1, 1, 16, 12], 2), [1, 1, 16, 12]);
    const loss = (input: tf.Tensor) => tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, w, 1, 'valid')));
    const gradient = tf.grad(loss)(x);
    const onWasmGradient = await gradient.data();
    assert.ok(count() > before, 'the forward pass ran in the tiles');
    await tf.setBackend('cpu');
    const onCpu = tf.tidy(() => tf.grad(loss)(tf.tensor4d(values([1, 8, 8, 16], 1), [1, 8, 8, 16])).dataSync());
    await tf.setBackend('wasm');
    for (let i = 0; i < onCpu.length; i++) assert.ok(Math.abs(onWasmGradient[i]! - onCpu[i]!) <= 1e-4 * (1 + Math.abs(onCpu[i]!)), `dx at ${i}: ${onWasmGradient[i]} against cpu's ${onCpu[i]}`);
    tf.dispose([x, w, gradient]);
  });
});
