import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { composedFallbacks } from '../../src/backends/kernel-fixes/composed-kernel.js';
import { onWasm } from '../support/backend-suite.js';

function values(shape: number[], seed: number, shift = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 7919 + i * 12.9898) + shift), shape);
}

interface BatchNormCase {
  x: number[];
  statistics: number[];
  scale: boolean;
  offset: boolean;
  /** Statistics not per channel: tfjs's own kernel. */
  fallsBack?: boolean;
}

const CASES: Record<string, BatchNormCase> = {
  'rank 4, statistics [C], scale and offset': { x: [2, 5, 4, 6], statistics: [6], scale: true, offset: true },
  'rank 4, statistics [1, 1, 1, C], no scale': { x: [1, 3, 3, 4], statistics: [1, 1, 1, 4], scale: false, offset: true },
  'rank 2 (after a Dense layer), no offset': { x: [5, 7], statistics: [7], scale: true, offset: false },
  'rank 4, 76,800 values (cut by pixels among the kernel threads)': { x: [2, 40, 40, 24], statistics: [24], scale: true, offset: true },
  'statistics of the whole shape (not per channel)': { x: [2, 3], statistics: [2, 3], scale: true, offset: true, fallsBack: true },
};

/** batchNorm with non-zero statistics and offset, on the active backend. */
function batchNorm(c: BatchNormCase): Float32Array {
  return tf.tidy(() => {
    const out = tf.batchNorm(
      values(c.x, 1),
      values(c.statistics, 2),
      values(c.statistics, 3, 1.5),
      c.offset ? values(c.statistics, 4) : undefined,
      c.scale ? values(c.statistics, 5, 1) : undefined,
      1e-3,
    );
    return out.dataSync() as Float32Array;
  });
}

// kernel-fixes/batch-norm-mul-add.ts: wasm's FusedBatchNorm as x·inv + (offset - mean·inv).
describe('wasm: a batch normalization as a multiply and an add (kernel-fixes/batch-norm-mul-add.ts)', function () {
  onWasm({ activate: false });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: as cpu computes it, to float32 rounding${c.fallsBack ? ', by tfjs\'s own kernel' : ''}`, async function () {
      await useBackend('cpu');
      const expected = batchNorm(c);
      await useBackend('wasm');
      const fallbacks = composedFallbacks.get('FusedBatchNorm') ?? 0;
      const before = tf.memory().numTensors;
      const actual = batchNorm(c);
      assert.equal(tf.memory().numTensors, before, 'nothing left behind');
      assert.equal((composedFallbacks.get('FusedBatchNorm') ?? 0) - fallbacks, c.fallsBack ? 1 : 0);
      actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-5 * (1 + Math.abs(expected[i]!)), `element ${i}: ${v} against cpu's ${expected[i]}`));
    });
  }
});
