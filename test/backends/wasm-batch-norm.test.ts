import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { batchNormGradientFunction, batchNormGradientOnHeap, batchNormGradientScratch, channelAffineFunction, PIXEL_BLOCK, type ChannelAffine } from '../../src/backends/wasm-simd/batch-norm.js';
import { threadsInTurn } from '../support/threads-in-turn.js';
import { wasmModule } from '../../src/backends/wasm-simd/wasm-binary.js';
import { generator } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

describe('batch normalization in wasm SIMD (src/backends/wasm-simd/batch-norm.ts)', () => {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasmModule({ shared: false }, [channelAffineFunction(), batchNormGradientFunction()])), { env: { memory } });
  const affine = exports['channelAffine'] as ChannelAffine;
  const own = [exports['channelAffine'], exports['batchNormGradient']] as Array<(...args: number[]) => void>;
  const inTurn = threadsInTurn(own);

  it('channelAffine: x · factor + shift per channel, rounded as a Multiply then an Add, nothing written outside', () => {
    const heap = new Float32Array(memory.buffer);
    const [pixels, channels] = [13, 12];
    const n = pixels * channels;
    const [x, factor, shift, out] = [4, 4 + n, 4 + n + channels, 8 + n + 2 * channels];
    heap.fill(7, 0, out + n + 8);
    const pick = generator(9);
    for (let k = 0; k < n; k++) heap[x + k] = pick(1001) / 100 - 5;
    for (let c = 0; c < channels; c++) [heap[factor + c], heap[shift + c]] = [pick(1001) / 300, pick(1001) / 200 - 2];
    affine(4 * x, 4 * factor, 4 * shift, 4 * out, pixels, 4 * channels);
    for (let k = 0; k < n; k++) assert.equal(heap[out + k], Math.fround(Math.fround(heap[x + k]! * heap[factor + (k % channels)]!) + heap[shift + (k % channels)]!), `element ${k}`);
    assert.ok(heap.subarray(out + n, out + n + 8).every((v) => v === 7));
    assert.equal(heap[out - 1], 7);
  });

  // The last is cut among threads (past 65,536 elements): 41 blocks of pixels.
  for (const [pixels, channels] of [[1, 20], [PIXEL_BLOCK, 20], [3 * PIXEL_BLOCK + 5, 20], [40 * PIXEL_BLOCK + 7, 28]] as const) {
    it(`batchNormGradientOnHeap, ${pixels} pixels of ${channels} channels: dx, dscale and doffset against float64, mean not zero, every cut the same`, () => {
      const heap = new Float32Array(memory.buffer);
      const n = pixels * channels;
      const base = 16;
      const room = batchNormGradientScratch(pixels, channels);
      const at = { dy: base, x: base + n, dx: base + 2 * n, mean: base + 3 * n, factor: base + 3 * n + channels, r: base + 3 * n + 2 * channels, dscale: base + 3 * n + 3 * channels, doffset: base + 3 * n + 4 * channels, scratch: base + 3 * n + 5 * channels };
      assert.ok(at.scratch + room <= heap.length);
      const pick = generator(pixels);
      const scale = Array.from({ length: channels }, () => pick(1001) / 500);
      const variance = Array.from({ length: channels }, () => 0.1 + pick(1001) / 100);
      for (let k = 0; k < n; k++) [heap[at.dy + k], heap[at.x + k]] = [pick(2001) / 1000 - 1, pick(2001) / 200 - 3];
      for (let c = 0; c < channels; c++) {
        heap[at.mean + c] = pick(1001) / 500 - 1;
        heap[at.r + c] = 1 / Math.sqrt(variance[c]! + 1e-3);
        heap[at.factor + c] = heap[at.r + c]! * scale[c]!;
      }
      const dscale = new Float64Array(channels);
      const doffset = new Float64Array(channels);
      for (let k = 0; k < n; k++) {
        const c = k % channels;
        dscale[c] += heap[at.dy + k]! * (heap[at.x + k]! - heap[at.mean + c]!) * heap[at.r + c]!;
        doffset[c] += heap[at.dy + k]!;
      }
      // Every cut of the pixel blocks among threads gives the same totals, bit for bit.
      const totals: Float32Array[] = [];
      for (const threads of [1, 2, 3]) {
        heap.fill(Number.NaN, at.scratch, at.scratch + room);
        batchNormGradientOnHeap(inTurn(threads), 1, heap, at, pixels, channels);
        totals.push(heap.slice(at.dscale, at.doffset + channels));
      }
      assert.deepEqual(totals[1], totals[0]);
      assert.deepEqual(totals[2], totals[0]);
      for (let k = 0; k < n; k++) assert.equal(heap[at.dx + k], Math.fround(heap[at.dy + k]! * heap[at.factor + (k % channels)]!), `dx ${k}`);
      // Sums of up to 200 terms of magnitude up to 5: float32 rounding, a few ulps of the largest partial sum.
      const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= 2e-6 * Math.max(1, pixels), `${what}: ${actual} against ${expected}`);
      for (let c = 0; c < channels; c++) {
        close(heap[at.dscale + c]!, dscale[c]!, `dscale ${c}`);
        close(heap[at.doffset + c]!, doffset[c]!, `doffset ${c}`);
      }
    });
  }
});

describe('wasm: batch normalization\'s gradient as one kernel (src/backends/kernel-fixes/wasm-batch-norm-gradient.ts)', function () {
  onWasm({ activate: false });

  for (const channels of [8, 3]) {
    it(`${channels} channels (${channels % 4 === 0 ? 'SIMD' : 'plain loops'}), mean and offset not zero: cpu's gradients w.r.t. x, scale and offset, no tensor left`, async () => {
      const run = () => tf.tidy(() => {
        const pick = generator(channels);
        const x = tf.tensor4d(Array.from({ length: 2 * 9 * 5 * channels }, () => pick(2001) / 400 - 2.5), [2, 9, 5, channels]);
        const mean = tf.tensor1d(Array.from({ length: channels }, () => pick(1001) / 500 - 1));
        const variance = tf.tensor1d(Array.from({ length: channels }, () => 0.2 + pick(1001) / 250));
        const scale = tf.tensor1d(Array.from({ length: channels }, () => pick(1001) / 400));
        const offset = tf.tensor1d(Array.from({ length: channels }, () => pick(1001) / 300 - 1));
        const cotangent = tf.tensor4d(Array.from({ length: 2 * 9 * 5 * channels }, () => pick(2001) / 1000 - 1), [2, 9, 5, channels]);
        const grads = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.sum(tf.mul(tf.batchNorm(a as tf.Tensor4D, mean, variance, o as tf.Tensor1D, s as tf.Tensor1D, 1e-3), cotangent)))([x, scale, offset]);
        return grads.map((g) => Array.from(g.dataSync()));
      });
      await useBackend('cpu');
      const expected = run();
      await useBackend('wasm');
      const before = tf.memory().numTensors;
      const actual = run();
      assert.equal(tf.memory().numTensors, before);
      actual.forEach((values, t) => values.forEach((v, i) => assert.ok(Math.abs(v - expected[t]![i]!) <= 1e-5 * Math.max(1, Math.abs(expected[t]![i]!)), `gradient ${t} element ${i}: ${v} against cpu's ${expected[t]![i]}`)));
    });
  }
});
