import assert from 'node:assert/strict';
import { loadBundle } from '../../src/keras/bundle.js';
import '../../src/layers/seed/index.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { isolatedGradientChecks, planIsolatedGradients } from '../../src/parity/isolated-gradients.js';
import { fixtureBundle, SEED_BUNDLES } from '../support/paths.js';

// Layer-isolated gradients: each layer's backward pass alone, on Keras's inputs and Keras's dL/dy
// (grad_layer_output goldens), compared with Keras's weight gradients and input gradients.
describe('layer-isolated gradients', function () {
  this.timeout(120_000);

  for (const name of [...SEED_BUNDLES, 'two_branch', 'deep']) {
    it(`${name}: every layer's backward pass alone matches Keras on cpu and wasm`, async () => {
      const result = await checkBundleParity(fixtureBundle(name), { backends: ['cpu', 'wasm'] });
      for (const backend of result.backends) {
        const { tensors, failingLayers, unavailable } = backend.isolated.gradients;
        assert.equal(unavailable, null, `${name} on ${backend.backend}`);
        assert.ok(tensors.length > 0, `${name} on ${backend.backend} compared nothing`);
        const failed = tensors.filter((t) => !t.comparison.passed).map((t) => `${t.label}: max abs ${t.comparison.maxAbsError}`);
        assert.deepEqual(failed, [], `${name} on ${backend.backend}`);
        assert.deepEqual(failingLayers, []);
        assert.equal(backend.outcome, 'pass');
      }
    });
  }

  it('compares weight gradients, and gradients into inputs from tensors used only there (swish)', async () => {
    const checks = isolatedGradientChecks(planIsolatedGradients(await loadBundle(fixtureBundle('swish'))));
    assert.deepEqual(
      checks.map((c) => [c.layer, c.label, c.expected.kind]),
      [
        ['dense', 'grad sequential/dense/kernel (isolated)', 'grad_weight'],
        ['dense', 'grad sequential/dense/bias (isolated)', 'grad_weight'],
        ['dense', 'grad into layer dense from input input_layer (isolated)', 'grad_input'],
        ['swish_activation', 'grad into layer swish_activation from dense (isolated)', 'grad_layer_output'],
        ['dense_1', 'grad sequential/dense_1/kernel (isolated)', 'grad_weight'],
        ['dense_1', 'grad sequential/dense_1/bias (isolated)', 'grad_weight'],
        ['dense_1', 'grad into layer dense_1 from swish_activation (isolated)', 'grad_layer_output'],
      ],
    );
  });

  it('says what it cannot check alone: a shared layer\'s weights, tensors with several uses, later calls (two_branch)', async () => {
    const plan = planIsolatedGradients(await loadBundle(fixtureBundle('two_branch')));
    const skipped = new Map(plan.skipped.map((s) => [s.layer, s.reason]));
    assert.match(skipped.get('shared_dense')!, /called 2 times and Keras's weight gradients sum its calls/);
    assert.match(skipped.get('skip')!, /from input right is not compared: that tensor also feeds 'shared_dense'/);
    assert.match(skipped.get('score')!, /from add is not compared: that tensor also feeds a model output/);
    assert.match(skipped.get('concat')!, /call 1 of a shared layer/);
    const checks = isolatedGradientChecks(plan).map((c) => c.label);
    // shared_dense's first call is the only use of input 'left': its input gradient is still Keras's.
    assert.ok(checks.includes('grad into layer shared_dense from input left (isolated)'), checks.join('\n'));
    assert.ok(!checks.some((c) => c.includes('shared_dense/kernel')), checks.join('\n'));
  });

  it('says why nothing is checked when a bundle has no grad_layer_output goldens', async () => {
    const bundle = await loadBundle(fixtureBundle('swish'));
    bundle.manifest.goldens.tensors = bundle.manifest.goldens.tensors.filter((g) => g.kind !== 'grad_layer_output');
    bundle.manifest.goldens.gradients.layer_output_gradients = { policy: 'never', included: false, bytes: 1032, auto_limit_bytes: 1 << 20 };
    const plan = planIsolatedGradients(bundle);
    assert.deepEqual(plan.layers, []);
    assert.match(plan.unavailable!, /exported with --layer-gradients never; re-export with --layer-gradients always/);
    delete bundle.manifest.goldens.gradients.layer_output_gradients;
    assert.match(planIsolatedGradients(bundle).unavailable!, /exporter predates them/);
  });
});
