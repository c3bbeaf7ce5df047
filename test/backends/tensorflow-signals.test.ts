import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeBackend } from '../../src/backends/index.js';
import { REPO_ROOT } from '../support/paths.js';

// The tensorflow backend under signals (docs/native-backend.md, "Signals"). TensorFlow's CPU kernels
// that run Eigen's contraction with oneDNN's sgemm (_FusedConv2D; every matrix product where its
// oneDNN ops are off) corrupt the heap when the thread running them takes a signal on its own
// stack, and Node's sampling profiler sends the main thread one every millisecond. A corrupted
// heap aborts the process it is in: each check runs in a child.

const BACKENDS = path.join(REPO_ROOT, 'dist', 'src', 'backends', 'index.js');

/** Runs `body` (an ES module's statements, after the tensorflow backend is set up) in a child; its exit status, output and what it printed. */
function inChild(body: string, options: { profiled: boolean; env?: Record<string, string | undefined> }): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keras-bridge-signals-'));
  const script = `
    import * as tf from '@tensorflow/tfjs';
    const { useBackend } = await import(${JSON.stringify(BACKENDS)});
    await useBackend('tensorflow');
    ${body}`;
  const env = { ...process.env, ...options.env };
  for (const [name, value] of Object.entries(options.env ?? {})) if (value === undefined) delete env[name];
  try {
    const args = [...(options.profiled ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), '--input-type=module', '-e', script];
    return spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 600_000, env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function survived(child: ReturnType<typeof inChild>): void {
  const tail = child.stderr.split('\n').filter((l) => !/oneDNN|cpu_feature|rebuild TensorFlow|^$/.test(l)).slice(-5).join(' | ');
  assert.equal(child.status, 0, `exit ${child.status} (${child.signal ?? 'no signal'}): ${tail}`);
  assert.match(child.stdout, /done/);
}

describe('the tensorflow backend under signals (node --cpu-prof)', function () {
  before(async function () {
    if (!(await probeBackend('tensorflow')).available) this.skip();
  });

  it("turns TensorFlow's oneDNN ops on unless the user set TF_ENABLE_ONEDNN_OPTS", function () {
    const setting = 'console.log("done", process.env.TF_ENABLE_ONEDNN_OPTS);';
    assert.match(inChild(setting, { profiled: false, env: { TF_ENABLE_ONEDNN_OPTS: undefined } }).stdout, /done 1/);
    assert.match(inChild(setting, { profiled: false, env: { TF_ENABLE_ONEDNN_OPTS: '0' } }).stdout, /done 0/);
  });

  it('survives the profiler through 900 fused convolutions (TensorFlow\'s _FusedConv2D crashed 3 runs of 3 under it)', function () {
    // ResNet50's convolution shapes at batch 1, with a bias and a ReLU: keras-bridge's fused kernel.
    survived(
      inChild(
        `const shapes = [[56, 64, 64, 1], [56, 64, 64, 3], [28, 128, 128, 3], [14, 256, 256, 3], [7, 512, 512, 3], [112, 3, 64, 7]];
        const convs = shapes.map(([size, cin, cout, k]) => ({ x: tf.randomNormal([1, size, size, cin]), filter: tf.randomNormal([k, k, cin, cout]), bias: tf.randomNormal([cout]) }));
        for (let pass = 0; pass < 150; pass++) for (const c of convs) {
          const y = tf.fused.conv2d({ ...c, strides: 1, pad: 'same', activation: 'relu' });
          y.dataSync();
          y.dispose();
        }
        console.log('done');`,
        { profiled: true, env: { TF_ENABLE_ONEDNN_OPTS: undefined } },
      ),
    );
  });

  it('survives the profiler through 1,200 matrix products (with oneDNN off they crashed: TensorFlow left it off on CPUs without AVX-512 VNNI)', function () {
    survived(
      inChild(
        `const shapes = [[1, 2048, 1000], [128, 1024, 1024], [3136, 64, 256], [784, 576, 128]];
        const pairs = shapes.map(([m, k, n]) => [tf.randomNormal([m, k]), tf.randomNormal([k, n])]);
        for (let pass = 0; pass < 300; pass++) for (const [a, b] of pairs) {
          const y = tf.matMul(a, b);
          y.dataSync();
          y.dispose();
        }
        console.log('done');`,
        { profiled: true, env: { TF_ENABLE_ONEDNN_OPTS: undefined } },
      ),
    );
  });
});
