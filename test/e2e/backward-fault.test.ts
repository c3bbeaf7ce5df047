import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ParityRun } from '../../src/parity/parity-result.js';
import { fixtureBundle } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

describe('a wrong backward pass behind a right forward pass is pinned to its layer', () => {
  it('a Swish whose gradient is twice the true one: forward checks pass; end to end the backward pass diverges at swish_activation, and only it fails its isolated gradient check (cpu, wasm)', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-backward-'));
    try {
      const json = path.join(tmp, 'run.json');
      const r = await runCli(['parity', fixtureBundle('swish'), '--backend', 'cpu,wasm', '--custom-layers', 'dist/test/support/wrong-gradient-swish.js', '--json', json]);
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      const run = JSON.parse(await readFile(json, 'utf8')) as ParityRun;
      const backends = run.models[0]!.backends;
      assert.deepEqual(backends.map((b) => b.backend), ['cpu', 'wasm']);
      for (const b of backends) {
        // The forward pass is right, end to end and layer by layer...
        const forward = b.tensors.filter((t) => t.kind === 'output' || t.kind === 'layer_output');
        assert.ok(forward.length > 0 && forward.every((t) => t.comparison.passed), b.backend);
        assert.equal(b.firstDivergingLayer, null);
        assert.deepEqual(b.isolated.failingLayers, []);
        // ...end to end the wrong gradient shows up upstream of the fault (dense's weights and output
        // gradient) and not downstream (the gradient arriving at swish_activation's output)...
        assert.ok(b.tensors.some((t) => t.label === 'grad sequential/dense/kernel' && !t.comparison.passed), b.backend);
        const outputGradients = new Map(b.tensors.filter((t) => t.kind === 'grad_layer_output').map((t) => [t.layer, t.comparison.passed]));
        assert.equal(outputGradients.get('swish_activation'), true, b.backend);
        assert.equal(outputGradients.get('dense'), false, b.backend);
        assert.equal(b.firstDivergingLayerBackward, 'swish_activation', b.backend);
        // ...and alone, only the faulty layer's backward pass is out of tolerance.
        assert.deepEqual(b.isolated.gradients.failingLayers, ['swish_activation'], b.backend);
        const failing = b.isolated.gradients.tensors.filter((t) => !t.comparison.passed).map((t) => t.label);
        assert.deepEqual(failing, ['grad into layer swish_activation from dense (isolated)'], b.backend);
      }
      assert.match(r.stdout, /swish on wasm: first diverging layer in the backward pass is 'swish_activation'/);
      assert.match(r.stdout, /swish on cpu, layer-isolated gradients: backward pass out of tolerance when run alone on Keras's inputs and output gradients: swish_activation\n/);
      assert.match(r.stdout, /› grad into layer swish_activation from dense \(isolated\) on wasm: 128 \/ 128 elements/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
