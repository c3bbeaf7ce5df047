import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import tf from '#tfjs';
import { activeBackendName, NODE_BACKENDS, nodeBackend, probeBackend, readNativeBuildStatus, useBackend, type NodeBackendName as BackendName } from '../../src/backends/index.js';

const TOLERANCE = 1e-5;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BACKENDS_INDEX = fileURLToPath(new URL('../../src/backends/index.js', import.meta.url));

/** Deterministic values in [-1, 1): the same inputs on every backend and every run. */
function pseudoRandom(count: number, seed: number): Float32Array {
  const values = new Float32Array(count);
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}

const X = pseudoRandom(16 * 24, 1);
const W = pseudoRandom(24 * 8, 2);

// Read asynchronously: webgpu in Node has no synchronous read.
async function read(tensor: tf.Tensor): Promise<Float32Array> {
  try {
    return (await tensor.data()) as Float32Array;
  } finally {
    tensor.dispose();
  }
}

function matMulResult(): Promise<Float32Array> {
  return read(tf.tidy(() => tf.matMul(tf.tensor2d(X, [16, 24]), tf.tensor2d(W, [24, 8]))));
}

/** d/dx of sum(tanh(x·W)): a matMul and an elementwise op on both the forward and backward pass. */
function gradientResult(): Promise<Float32Array> {
  return read(
    tf.tidy(() => {
      const w = tf.tensor2d(W, [24, 8]);
      const slope = tf.grad((x: tf.Tensor) => tf.tanh(tf.matMul(x as tf.Tensor2D, w)).sum());
      return slope(tf.tensor2d(X, [16, 24]));
    }),
  );
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let worstIndex = 0;
  for (let i = 0; i < actual.length; i++) {
    const difference = Math.abs(actual[i]! - expected[i]!);
    if (difference > worst) [worst, worstIndex] = [difference, i];
  }
  assert.ok(worst <= TOLERANCE, `${what}: greatest absolute difference ${worst} at index ${worstIndex} (up to ${TOLERANCE} allowed)`);
}

/**
 * Skips an optional backend (one setup does not install) when it is unavailable, and the native
 * backend only where its build is known to have failed (or was switched off).
 */
function skipReasonFor(backend: BackendName, reason: string | undefined): string | undefined {
  if (nodeBackend(backend)?.optional) return `optional, unavailable here: ${reason}`;
  if (backend !== 'tensorflow') return undefined;
  if (process.env.KERAS_BRIDGE_SKIP_NATIVE === '1') return 'KERAS_BRIDGE_SKIP_NATIVE=1';
  const status = readNativeBuildStatus();
  return status && !status.ok ? reason : undefined;
}

describe('backends compute what cpu computes', function () {
  let expectedMatMul: Float32Array;
  let expectedGradient: Float32Array;
  let previous: string | undefined;

  before(async function () {
    previous = activeBackendName();
    await useBackend('cpu');
    expectedMatMul = await matMulResult();
    expectedGradient = await gradientResult();
  });

  after(async function () {
    // Other suites share this process and its tfjs engine.
    await tf.setBackend(previous ?? 'cpu');
  });

  for (const backend of NODE_BACKENDS) {
    describe(backend, function () {
      before(async function () {
        const probe = await probeBackend(backend);
        if (probe.available) return;
        const skip = skipReasonFor(backend, probe.reason);
        if (!skip) assert.fail(`backend ${backend} should be available here but is not: ${probe.reason}`);
        console.log(`      skipping backend ${backend}: ${skip}`);
        this.skip();
      });

      beforeEach(async function () {
        await useBackend(backend);
      });

      it('is the active backend of @tensorflow/tfjs after useBackend', function () {
        assert.equal(tf.getBackend(), backend);
      });

      it('can be the first backend a fresh process chooses', function () {
        const script = `
          import * as tf from '@tensorflow/tfjs';
          const { useBackend } = await import(${JSON.stringify(BACKENDS_INDEX)});
          await useBackend('${backend}');
          console.log(tf.getBackend() + ' ' + (await tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).data()).join(','));
        `;
        const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
        assert.equal(child.status, 0, child.stderr);
        assert.equal(child.stdout.trim().split('\n').at(-1), `${backend} 2,2,2,2`);
      });

      it('computes a 16x24 by 24x8 matMul within 1e-5 of cpu', async function () {
        assertClose(await matMulResult(), expectedMatMul, `${backend} matMul`);
      });

      it('computes the gradient of sum(tanh(x·W)) within 1e-5 of cpu', async function () {
        assertClose(await gradientResult(), expectedGradient, `${backend} gradient`);
      });
    });
  }
});
