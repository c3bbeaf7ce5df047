import assert from 'node:assert/strict';
import tf from '#tfjs';
import { activeBackendName, probeBackend, useBackend } from '../../src/backends/index.js';
import { FUSED_BATCH_NORM_GRAD } from '../../src/backends/kernel-fixes/batch-norm-gradient.js';

/** Deterministic values in (shift - 1, shift + 1), different for each seed. */
function values(shape: number[], seed: number, shift = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 7919 + i * 12.9898) + shift), shape);
}

interface BatchNormCase {
  x: number[];
  /** The statistics from the batch (training mode: their gradients flow back to x) or given (inference). */
  batchStatistics: boolean;
  scale: boolean;
}

const CASES: Record<string, BatchNormCase> = {
  'a convolution output (rank 4), given statistics': { x: [2, 5, 4, 3], batchStatistics: false, scale: true },
  // (Without a scale, tfjs-core's FusedBatchNorm cannot be taped at all: keras-bridge converts such
  // a layer to KerasBatchNormalization, which multiplies by no scale itself.)
  'a Dense output (rank 2), given statistics': { x: [6, 3], batchStatistics: false, scale: true },
  'a sequence (rank 3), statistics of the batch (training mode)': { x: [3, 4, 3], batchStatistics: true, scale: true },
  'a volume (rank 5), given statistics': { x: [2, 2, 3, 2, 3], batchStatistics: false, scale: true },
};

interface Run {
  /** dL/dx, dL/dscale (when there is one), dL/doffset. */
  gradients: Float32Array[];
  kernels: string[];
}

/** The gradients of L = sum(batchNorm(x)·w) w.r.t. x, scale and offset, and the kernels the backward pass ran. */
async function run(c: BatchNormCase): Promise<Run> {
  const x = values(c.x, 1);
  const channels = c.x.at(-1)!;
  const scale = values([channels], 2, 1.5);
  const offset = values([channels], 3);
  const givenMean = values([channels], 4);
  const givenVariance = values([channels], 5, 1.5);
  const w = values(c.x, 6);
  const before = tf.memory().numTensors;
  let gradients: Float32Array[] = [];
  const profile = await tf.profile(() => {
    gradients = tf.tidy(() => {
      const loss = (input: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
        const { mean, variance } = c.batchStatistics ? tf.moments(input, c.x.map((_, i) => i).slice(0, -1)) : { mean: givenMean, variance: givenVariance };
        return tf.sum(tf.mul(tf.batchNorm(input, mean, variance, o, c.scale ? s : undefined, 1e-3), w));
      };
      const grads = tf.grads(loss)([x, scale, offset]);
      return grads.filter((_, i) => c.scale || i !== 1).map((g) => g.dataSync() as Float32Array);
    });
  });
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
  tf.dispose([x, scale, offset, givenMean, givenVariance, w]);
  return { gradients, kernels: profile.kernels.map((k) => k.name) };
}

// On tensorflow, the gradients of a batch normalization come from TensorFlow's FusedBatchNormGradV3
// (batch-norm-gradient.ts): one op for dx, dscale and doffset. Elsewhere, the composed gradient.
describe('the batch normalization gradient in one TensorFlow op on the tensorflow backend', function () {
  let previous: string | undefined;
  const onCpu = new Map<string, Run>();

  before(async function () {
    if (!(await probeBackend('tensorflow')).available) this.skip();
    previous = activeBackendName();
    await useBackend('cpu');
    for (const [name, c] of Object.entries(CASES)) onCpu.set(name, await run(c));
  });

  after(async function () {
    if (previous) await tf.setBackend(previous);
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: one ${FUSED_BATCH_NORM_GRAD} on tensorflow, none on cpu; the same gradients to float32 rounding`, async () => {
      const cpu = onCpu.get(name)!;
      assert.ok(!cpu.kernels.includes(FUSED_BATCH_NORM_GRAD), cpu.kernels.join(', '));
      await useBackend('tensorflow');
      const native = await run(c);
      assert.equal(native.kernels.filter((k) => k === FUSED_BATCH_NORM_GRAD).length, 1, native.kernels.join(', '));
      // Given statistics: nothing else of the gradient is composed (no Sub for x - mean).
      if (!c.batchStatistics) assert.ok(!native.kernels.includes('Sub'), native.kernels.join(', '));
      assert.equal(native.gradients.length, cpu.gradients.length);
      native.gradients.forEach((g, j) => {
        assert.equal(g.length, cpu.gradients[j]!.length);
        g.forEach((v, i) => assert.ok(Math.abs(v - cpu.gradients[j]![i]!) <= 2e-5 * (1 + Math.abs(cpu.gradients[j]![i]!)), `gradient ${j}[${i}]: ${v} against cpu's ${cpu.gradients[j]![i]}`));
      });
    });
  }
});
