import assert from 'node:assert/strict';
import tf from '#tfjs';
import { derivedTensorCount } from '../../src/backends/kernel-fixes/derived-tensors.js';
import { asTrainingPass, winogradConvolutions, winogradFrom, winogradSchemes } from '../../src/backends/kernel-fixes/winograd-conv2d.js';
import { F4x4_3x3, WINOGRAD_SCHEMES } from '../../src/backends/wasm-simd/winograd-schemes.js';
import { generator } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

interface ConvCase {
  shape: [number, number, number, number];
  outChannels: number;
  pad: 'same' | 'valid';
  activation: 'linear' | 'relu' | 'relu6' | 'elu';
  bias: boolean;
}

/** Random 3x3 convolutions: odd and even sizes (half tiles at the edges), one pixel, channels 4 to 40 in vectors of 4. */
function cases(count: number): ConvCase[] {
  const pick = generator(9001);
  const activations = ['linear', 'relu', 'relu6', 'elu'] as const;
  return Array.from({ length: count }, (_, i) => {
    const pad = i % 3 === 2 ? 'valid' : 'same';
    const least = pad === 'valid' ? 3 : 1;
    return {
      shape: [1 + pick(3), least + pick(9), least + pick(9), 4 * (1 + pick(10))],
      outChannels: 4 * (1 + pick(10)),
      pad,
      activation: activations[i % activations.length]!,
      bias: i % 5 !== 0,
    };
  });
}

function values(shape: number[], seed: number, scale: number): Float32Array {
  const pick = generator(seed);
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => ((pick(2001) - 1000) / 1000) * scale);
}

/** A case's output size and padding before the first row and column. */
function geometry(c: ConvCase): { oh: number; ow: number; top: number; left: number } {
  const [, h, w] = c.shape;
  return c.pad === 'same' ? { oh: h, ow: w, top: 1, left: 1 } : { oh: h - 2, ow: w - 2, top: 0, left: 0 };
}

/** Every (input pixel, tap, output pixel) the convolution multiplies, in order: output pixels, then taps (pixel indices over the batch). */
function forEachTap(c: ConvCase, visit: (inPixel: number, tap: number, outPixel: number) => void): void {
  const [n, h, w] = c.shape;
  const { oh, ow, top, left } = geometry(c);
  for (let img = 0; img < n; img++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            const [row, col] = [y + i - top, xo + j - left];
            if (row >= 0 && row < h && col >= 0 && col < w) visit((img * h + row) * w + col, i * 3 + j, (img * oh + y) * ow + xo);
          }
}

/**
 * The convolution in float64 before its activation, and per output the sum of |x·w| over its taps
 * (rounding error scales with it: a sum that cancels to near 0 keeps the error of its terms).
 */
function reference(c: ConvCase, x: Float32Array, w: Float32Array, b: Float32Array | undefined): { sums: Float64Array; magnitudes: Float64Array; outShape: number[] } {
  const [n, , , ci] = c.shape;
  const co = c.outChannels;
  const { oh, ow } = geometry(c);
  const sums = new Float64Array(n * oh * ow * co);
  const magnitudes = new Float64Array(sums.length);
  if (b) for (let at = 0; at < sums.length; at++) [sums[at], magnitudes[at]] = [b[at % co]!, Math.abs(b[at % co]!)];
  forEachTap(c, (inPixel, tap, outPixel) => {
    for (let k = 0; k < ci; k++)
      for (let o = 0; o < co; o++) {
        const term = x[inPixel * ci + k]! * w[(tap * ci + k) * co + o]!;
        sums[outPixel * co + o] += term;
        magnitudes[outPixel * co + o] += Math.abs(term);
      }
  });
  return { sums, magnitudes, outShape: [n, oh, ow, co] };
}

/** dW[i][j][ci][co] = Σ x_padded[n, y + i, x + j, ci] · dy[n, y, x, co] in float64, and the sums of |terms|. */
function filterGradientReference(c: ConvCase, x: Float32Array, dy: Float32Array): { sums: Float64Array; magnitudes: Float64Array } {
  const ci = c.shape[3];
  const co = c.outChannels;
  const sums = new Float64Array(9 * ci * co);
  const magnitudes = new Float64Array(sums.length);
  forEachTap(c, (inPixel, tap, outPixel) => {
    for (let k = 0; k < ci; k++)
      for (let o = 0; o < co; o++) {
        const term = x[inPixel * ci + k]! * dy[outPixel * co + o]!;
        sums[(tap * ci + k) * co + o] += term;
        magnitudes[(tap * ci + k) * co + o] += Math.abs(term);
      }
  });
  return { sums, magnitudes };
}

/**
 * The filter gradient's bound, in ε of the gradient's scale (the largest Σ|x·dy| of any tap), over
 * the 30 cases: measured 3.36 as F(2x2, 3x3), 2.52 as im2col and one product. Per element, against
 * each tap's own Σ|x·dy|, Winograd's error is far larger where a tap gets little of the sum (the
 * outer taps of a 1- or 2-pixel-high image, mostly padding): up to 78 against 2.6, since Gᵀ M G
 * cancels sums over every tap to give it (3.36 with the tiles' multiply-add fused and apart alike).
 * F(4x4, 3x3), which winogradSchemes does not take for filter gradients by default: 22.8 fused,
 * 28.0 apart (KERAS_BRIDGE_WASM_FMA=0). wasm rounds alike on every CPU of each kind.
 */
const FILTER_GRADIENT_BOUNDS = { 'F(2x2, 3x3)': 6, 'F(4x4, 3x3)': 40 } as const;

const ACTIVATE: Record<ConvCase['activation'], (v: number) => number> = {
  linear: (v) => v,
  relu: (v) => Math.max(0, v),
  relu6: (v) => Math.min(6, Math.max(0, v)),
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
};

/**
 * Largest |wasm - float64| over ε·(Σ|x·w| + |y|) (ε = 2⁻²⁴), over every output of the 60 cases.
 * Measured: XNNPACK's direct convolution 2.54; Winograd F(2x2, 3x3) 2.65 with the tiles' multiply
 * and add apart (its transforms add a few roundings of sums as large as their terms), 2.03 with
 * them fused (relaxed-simd.ts: one rounding per step); F(4x4, 3x3) 16.5 apart and 17.0 fused: its
 * transforms weigh inputs by up to 5 and outputs by up to 8 (winograd-schemes.ts). Each way rounds
 * alike on every CPU that takes it (the probe keeps the plain instructions where relaxed_madd does
 * not fuse).
 */
const ERROR_BOUNDS = { 'F(2x2, 3x3)': 4, 'F(4x4, 3x3)': 24, xnnpack: 4 } as const;
type Path = keyof typeof ERROR_BOUNDS;
const PATHS = Object.keys(ERROR_BOUNDS) as Path[];

function worstError(c: ConvCase, got: Float32Array, ref: ReturnType<typeof reference>): number {
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    // The activation moves a value by at most its own error (each is 1-Lipschitz) plus its rounding.
    const expected = ACTIVATE[c.activation](ref.sums[i]!);
    const allowed = 2 ** -24 * (ref.magnitudes[i]! + Math.abs(expected));
    worst = Math.max(worst, allowed === 0 ? (got[i] === 0 ? 0 : Infinity) : Math.abs(got[i]! - expected) / allowed);
  }
  return worst;
}

describe('wasm: 3x3 convolutions as Winograd F(2x2, 3x3) and F(4x4, 3x3) (src/backends/kernel-fixes/winograd-conv2d.ts)', function () {
  onWasm({ activate: true });
  const settings = { ...winogradFrom };
  const schemes = { ...winogradSchemes };
  afterEach(() => {
    Object.assign(winogradFrom, settings);
    Object.assign(winogradSchemes, schemes);
  });

  const run = (c: ConvCase, x: Float32Array, w: Float32Array, b: Float32Array | undefined) =>
    tf.tidy(() =>
      tf.fused.conv2d({
        x: tf.tensor4d(x, c.shape),
        filter: tf.tensor4d(w, [3, 3, c.shape[3], c.outChannels]),
        ...(b ? { bias: tf.tensor1d(b) } : {}),
        strides: 1,
        pad: c.pad,
        activation: c.activation,
      }).dataSync() as Float32Array,
    );

  it(`60 random convolutions (odd sizes, valid and same, each activation, bias or none) are within their bound of float64: ${Object.entries(ERROR_BOUNDS).map(([path, bound]) => `${path} ${bound}·ε·Σ|x·w|`).join(', ')}`, () => {
    const worst: Record<Path, number> = { 'F(2x2, 3x3)': 0, 'F(4x4, 3x3)': 0, xnnpack: 0 };
    cases(60).forEach((c, k) => {
      const x = values(c.shape, 2 * k + 1, 2);
      const w = values([3, 3, c.shape[3], c.outChannels], 2 * k + 2, 0.5);
      const b = c.bias ? values([c.outChannels], 7 * k + 3, 1) : undefined;
      const ref = reference(c, x, w, b);
      for (const path of PATHS) {
        const scheme = WINOGRAD_SCHEMES.find((s) => s.name === path);
        winogradFrom.macs = scheme ? 0 : Infinity;
        winogradFrom.largerTilesFrom = 0;
        if (scheme) winogradSchemes.forward = scheme;
        const before = { all: winogradConvolutions.count, scheme: winogradConvolutions.byScheme[path] ?? 0 };
        const got = run(c, x, w, b);
        assert.equal(winogradConvolutions.count - before.all, scheme ? 1 : 0, `case ${k} ran ${path}`);
        assert.equal((winogradConvolutions.byScheme[path] ?? 0) - before.scheme, scheme ? 1 : 0, `case ${k} ran ${path}`);
        assert.equal(got.length, ref.sums.length);
        const error = worstError(c, got, ref);
        assert.ok(error <= ERROR_BOUNDS[path], `case ${k} (${JSON.stringify(c)}) on ${path}: error ${error.toFixed(2)}·ε·Σ|x·w|`);
        worst[path] = Math.max(worst[path], error);
      }
    });
    if (process.env['SHOW_WINOGRAD_ERROR']) console.log(worst);
    for (const path of PATHS) assert.ok(worst[path] > 0, `the comparison sees ${path}'s rounding`);
    // F(4x4, 3x3)'s larger transforms round more than F(2x2, 3x3)'s: the bounds are not one.
    assert.ok(worst['F(4x4, 3x3)'] > worst['F(2x2, 3x3)']);
  });

  it('a convolution larger than a pass runs in passes of tile rows, and equals one pass bit for bit, in either scheme', () => {
    winogradFrom.macs = 0;
    const c: ConvCase = { shape: [3, 30, 17, 64], outChannels: 64, pad: 'same', activation: 'relu', bias: true };
    const [x, w, b] = [values(c.shape, 5, 1), values([3, 3, 64, 64], 6, 0.2), values([64], 7, 1)];
    for (const scheme of WINOGRAD_SCHEMES) {
      winogradSchemes.forward = scheme;
      winogradFrom.passBytes = settings.passBytes;
      const before = winogradConvolutions.byScheme[scheme.name] ?? 0;
      const whole = run(c, x, w, b);
      winogradFrom.passBytes = 1; // one tile row a pass
      assert.deepEqual(run(c, x, w, b), whole, scheme.name);
      assert.equal(winogradConvolutions.byScheme[scheme.name]! - before, 2);
    }
  });

  it('keeps the transformed filter while the filter lives and frees it with the filter; leaves no tensor behind', () => {
    winogradFrom.macs = 0;
    const backend = tf.backend();
    const filter = tf.tensor4d(values([3, 3, 8, 16], 11, 1), [3, 3, 8, 16]);
    const x = tf.tensor4d(values([1, 6, 6, 8], 12, 1), [1, 6, 6, 8]);
    const derived = derivedTensorCount(backend);
    const tensors = tf.memory().numTensors;
    const first = tf.tidy(() => tf.conv2d(x, filter, 1, 'same').dataSync());
    const bytes = tf.memory().numBytes;
    assert.equal(derivedTensorCount(backend), derived + 1);
    for (let i = 0; i < 3; i++) assert.deepEqual(tf.tidy(() => tf.conv2d(x, filter, 1, 'same').dataSync()), first);
    assert.equal(derivedTensorCount(backend), derived + 1, 'one transform, kept');
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.memory().numBytes, bytes);
    filter.dispose();
    assert.equal(derivedTensorCount(backend), derived);
    x.dispose();
  });

  for (const scheme of WINOGRAD_SCHEMES) {
    it(`an input gradient (the turned kernel's convolution) runs as Winograd too (winogradSchemes.inputGradient ${scheme.name}), and its transform goes with the kernel`, () => {
      winogradFrom.macs = 0;
      winogradFrom.largerTilesFrom = 0;
      winogradSchemes.inputGradient = scheme;
      // The forward scheme is not the one an input gradient takes.
      winogradSchemes.forward = WINOGRAD_SCHEMES.find((s) => s !== scheme)!;
      const backend = tf.backend();
      const filter = tf.tensor4d(values([3, 3, 8, 12], 21, 0.5), [3, 3, 8, 12]);
      const dy = tf.tensor4d(values([2, 9, 7, 12], 22, 1), [2, 9, 7, 12]);
      const derived = derivedTensorCount(backend);
      const before = winogradConvolutions.byScheme[scheme.name] ?? 0;
      const dx = tf.tidy(() => tf.conv2dTranspose(dy, filter, [2, 9, 7, 8], 1, 'same').dataSync());
      assert.equal(winogradConvolutions.byScheme[scheme.name]! - before, 1);
      assert.equal(derivedTensorCount(backend), derived + 2, 'the turned kernel and its transform');
      winogradFrom.macs = Infinity;
      const direct = tf.tidy(() => tf.conv2dTranspose(dy, filter, [2, 9, 7, 8], 1, 'same').dataSync());
      dx.forEach((v, i) => assert.ok(Math.abs(v - direct[i]!) <= 1e-5, `element ${i}: ${v} against ${direct[i]}`));
      filter.dispose();
      assert.equal(derivedTensorCount(backend), derived, 'both freed with the kernel');
      dy.dispose();
    });
  }

  for (const scheme of WINOGRAD_SCHEMES) {
    const bound = FILTER_GRADIENT_BOUNDS[scheme.name as keyof typeof FILTER_GRADIENT_BOUNDS];
    it(`the filter gradient (Conv2DBackpropFilter) of 30 random convolutions as ${scheme.name} is within ${bound}·ε of float64 at the gradient's scale, in one pass and in passes`, () => {
      winogradFrom.macs = 0;
      winogradFrom.largerTilesFrom = 0;
      winogradSchemes.filterGradient = scheme;
      let worst = 0;
      cases(30).forEach((c, k) => {
        const x = values(c.shape, 5 * k + 1, 2);
        const w = values([3, 3, c.shape[3], c.outChannels], 5 * k + 2, 0.5);
        const outShape = reference(c, x, w, undefined).outShape;
        const dy = values(outShape, 5 * k + 3, 1);
        const expected = filterGradientReference(c, x, dy);
        const gradient = () =>
          tf.tidy(() => {
            const filter = tf.tensor4d(w, [3, 3, c.shape[3], c.outChannels]);
            return tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(tf.tensor4d(x, c.shape), f as tf.Tensor4D, 1, c.pad), tf.tensor(dy, outShape))))(filter).dataSync() as Float32Array;
          });
        // The scale: the largest Σ|x·dy| of any tap (see FILTER_GRADIENT_BOUNDS).
        const scale = 2 ** -24 * Math.max(...expected.magnitudes);
        const check = (got: Float32Array, how: string) =>
          got.forEach((v, i) => {
            const error = Math.abs(v - expected.sums[i]!) / scale;
            worst = Math.max(worst, error);
            assert.ok(error <= bound, `case ${k} (${JSON.stringify(c)}) ${how}, element ${i}: ${v} against ${expected.sums[i]}`);
          });
        const before = winogradConvolutions.byScheme[scheme.name] ?? 0;
        check(gradient(), 'in one pass');
        // Up to 4 input channels (a first layer's), the filter gradient has a SIMD kernel of its own.
        // The forward pass, recorded, takes winogradSchemes.recordedForward (F(2x2, 3x3)).
        const expectedRuns = (c.shape[3] <= 4 ? 0 : 1) + (scheme === winogradSchemes.recordedForward ? 1 : 0);
        assert.equal((winogradConvolutions.byScheme[scheme.name] ?? 0) - before, expectedRuns, `case ${k}: the filter gradient ran as ${scheme.name}`);
        if (k % 10 === 0) {
          winogradFrom.passBytes = 1;
          check(gradient(), 'in passes of one tile row');
          winogradFrom.passBytes = settings.passBytes;
        }
      });
      if (process.env['SHOW_WINOGRAD_ERROR']) console.log(scheme.name, worst);
    });
  }

  it('takes F(4x4, 3x3) for inference from largerTilesFrom tiles, and F(2x2, 3x3) for a recorded or training-mode pass and below that', () => {
    winogradFrom.macs = 0;
    const filter = tf.tensor4d(values([3, 3, 8, 8], 41, 0.5), [3, 3, 8, 8]);
    const schemeOf = (f: () => void) => {
      const before = { ...winogradConvolutions.byScheme };
      f();
      const ran = Object.keys(winogradConvolutions.byScheme).filter((name) => winogradConvolutions.byScheme[name] !== before[name]);
      assert.equal(ran.length, 1, `one scheme ran: ${ran.join(', ')}`);
      return ran[0];
    };
    const conv = (batch: number) => () => tf.tidy(() => tf.conv2d(tf.ones([batch, 16, 16, 8]) as tf.Tensor4D, filter, 1, 'same').dataSync());
    // 16x16 pixels are 16 tiles of 4x4 an image.
    assert.equal(winogradFrom.largerTilesFrom, 32);
    assert.equal(schemeOf(conv(2)), 'F(4x4, 3x3)', 'inference, 32 tiles');
    assert.equal(schemeOf(conv(1)), 'F(2x2, 3x3)', 'inference, 16 tiles');
    assert.equal(schemeOf(() => asTrainingPass(conv(2))), 'F(2x2, 3x3)', 'a training-mode pass');
    assert.equal(schemeOf(conv(2)), 'F(4x4, 3x3)', 'after the training-mode pass');
    const x = tf.ones([2, 16, 16, 8]) as tf.Tensor4D;
    // Under tf.grad the forward pass is recorded; its filter gradient runs after, as winogradSchemes.filterGradient.
    winogradSchemes.filterGradient = F4x4_3x3;
    const recorded = { ...winogradConvolutions.byScheme };
    tf.tidy(() => tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'same')))(filter).dataSync());
    assert.equal(winogradConvolutions.byScheme['F(2x2, 3x3)']! - recorded['F(2x2, 3x3)']!, 1, 'the recorded forward pass');
    assert.equal(winogradConvolutions.byScheme['F(4x4, 3x3)']! - recorded['F(4x4, 3x3)']!, 1, 'the filter gradient');
    tf.dispose([filter, x]);
  });

  it('leaves strided, dilated, 5x5 and channel counts not in vectors of 4 to XNNPACK', () => {
    winogradFrom.macs = 0;
    const before = winogradConvolutions.count;
    tf.tidy(() => {
      const x = tf.ones([1, 8, 8, 8]) as tf.Tensor4D;
      tf.conv2d(x, tf.ones([3, 3, 8, 8]) as tf.Tensor4D, 2, 'same').dataSync();
      tf.conv2d(x, tf.ones([3, 3, 8, 8]) as tf.Tensor4D, 1, 'same', 'NHWC', 2).dataSync();
      tf.conv2d(x, tf.ones([5, 5, 8, 8]) as tf.Tensor4D, 1, 'same').dataSync();
      tf.conv2d(x, tf.ones([3, 3, 8, 6]) as tf.Tensor4D, 1, 'same').dataSync();
      tf.conv2d(tf.ones([1, 8, 8, 3]) as tf.Tensor4D, tf.ones([3, 3, 3, 8]) as tf.Tensor4D, 1, 'same').dataSync();
    });
    assert.equal(winogradConvolutions.count, before);
  });
});
