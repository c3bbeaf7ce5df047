import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeBackend } from '../../src/backends/index.js';
import type { ParityRun } from '../../src/parity/parity-result.js';
import { expectParity } from '../../src/testing/index.js';
import { fixtureBundle } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// fixtures/bundles/dilated_conv (fixtures/models/dilated_conv_model.py): a dilated Conv2D, which
// tfjs runs but cannot differentiate, then Flatten, Dropout and a Dense head.
const BUNDLE = fixtureBundle('dilated_conv');
const REASON = /tfjs cannot differentiate conv2D with dilation rates greater than 1, which layer 'dilated_conv' \(Conv2D\) runs/;

describe('parity when tfjs cannot differentiate a layer', function () {
  this.timeout(300_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-no-grad-'));
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  it('compares every forward tensor, reports the gradients as not compared with the operation and layer, and exits 3', async () => {
    const backends = ['cpu', 'wasm'];
    for (const optional of ['tensorflow', 'chromium-cpu'] as const) if ((await probeBackend(optional)).available) backends.push(optional);
    const [json, junit, html] = ['parity.json', 'parity.xml', 'parity.html'].map((f) => path.join(tmp, f)) as [string, string, string];
    const r = await runCli(['parity', BUNDLE, '--backend', backends.join(','), '--json', json, '--junit', junit, '--html', html]);
    assert.equal(r.exitCode, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /dilated_conv on cpu, gradients \(inputs, weights, layer outputs\): NOT compared: tfjs cannot differentiate conv2D/);
    assert.match(r.stdout, /training mode: 6 tensors compared \(1 random draws replayed from Keras\), all pass; gradients NOT compared: tfjs cannot/);
    assert.match(r.stdout, /not checked alone: dilated_conv \(tfjs cannot differentiate conv2D with dilation rates greater than 1\)/);
    assert.match(r.stdout, /after 3 optimizer steps: sgd with tfjs tf.train.sgd: not compared: tfjs cannot differentiate/);
    assert.match(r.stdout, /parity INCOMPLETE: \d+ tensors compared, all pass, but gradients were NOT compared on dilated_conv on cpu/);
    assert.doesNotMatch(r.stdout, /FAIL/);

    const run = JSON.parse(await readFile(json, 'utf8')) as ParityRun;
    assert.equal(run.outcome, 'incomplete');
    for (const b of run.models[0]!.backends) {
      assert.equal(b.outcome, 'incomplete', b.backend);
      assert.match(b.gradientsNotCompared ?? '', REASON);
      assert.match(b.training?.gradientsNotCompared ?? '', REASON);
      assert.deepEqual([...new Set(b.tensors.map((t) => t.kind))], ['output', 'layer_output'], 'forward tensors only, all compared');
      assert.ok(b.tensors.every((t) => t.comparison.passed));
      assert.deepEqual(b.isolated.tensors.map((t) => t.layer), ['dilated_conv', 'flatten', 'dropout', 'head']);
      // Every other layer's backward pass is still checked alone; only the dilated one is skipped.
      const isolated = b.isolated.gradients;
      assert.ok(isolated.tensors.some((t) => t.label === 'grad head/kernel (isolated)') && isolated.tensors.every((t) => t.comparison.passed));
      assert.ok(isolated.tensors.every((t) => t.layer !== 'dilated_conv'));
      assert.deepEqual(isolated.skipped.map((s) => s.layer), ['dilated_conv']);
      assert.ok(b.afterTraining!.optimizers.every((o) => REASON.test(o.notCompared ?? '')));
    }
    const xml = await readFile(junit, 'utf8');
    assert.match(xml, /name="cpu › gradients wrt weights \(not compared\)"><skipped message="tfjs cannot differentiate conv2D/);
    assert.match(xml, /name="cpu › training mode: gradients \(not compared\)"><skipped/);
    assert.doesNotMatch(xml, /<failure/);
    const page = await readFile(html, 'utf8');
    assert.match(page, /<h1>keras-bridge parity: <span class="incomplete">INCOMPLETE: gradients not compared<\/span><\/h1>/);
    assert.match(page, /<li>dilated_conv on cpu, gradients \(inputs, weights, layer outputs\): NOT compared: tfjs cannot differentiate conv2D/);
  });

  it('expectParity throws naming the layer, and resolves with allowGradientsNotCompared', async () => {
    await assert.rejects(
      expectParity(BUNDLE),
      (e: unknown) => e instanceof AssertionError && /gradients were NOT compared/.test(e.message) && REASON.test(e.message),
    );
    const result = await expectParity(BUNDLE, { allowGradientsNotCompared: true });
    assert.equal(result.outcome, 'incomplete');
  });
});
