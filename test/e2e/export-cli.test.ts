import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../../src/layers/seed/index.js';
import { bundleGolden, describeGolden, loadBundle, trainedWeightGoldens, trainingGoldens, type Bundle } from '../../src/keras/bundle.js';
import { toFloat64 } from '../../src/keras/packed-tensor.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { compareGolden } from '../../src/parity/compare-golden.js';
import { TolerancePolicy } from '../../src/parity/tolerance-policy.js';
import { formatParityTable } from '../../src/report/parity-table.js';
import { fixtureBundle } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

describe('keras-bridge export drives the Python exporter', () => {
  // Weights come from seeded initializers and are the same bits on every CPU; goldens come from
  // TensorFlow's kernels, which differ between CPUs (AVX2 or AVX-512, oneDNN on or off): the risk
  // model's finite-difference gradients moved by up to 2.3e-6 (1.6e-4 relative) between two
  // machines. A fresh export must match the fixture as tfjs must match Keras: within parity's
  // default float32 tolerance, plus each golden's recorded reference error.
  it('exports the seed risk model as the checked-in fixture: the same weights and config bytes, the same goldens to float32 tolerance', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-export-'));
    try {
      const out = path.join(tmp, 'risk');
      const r = await runCli(['export', '--out', out, '--factory', 'seed_models:risk_model', '--path', 'fixtures/seed', '--seed', '0', '--batch-size', '2', '--train-steps', '3']);
      assert.equal(r.exitCode, 0, r.stderr);
      for (const file of ['weights.bin', 'model.keras.json']) {
        const fresh = await readFile(path.join(out, file));
        const fixture = await readFile(path.join(fixtureBundle('risk'), file));
        assert.ok(fresh.equals(fixture), `${file} differs from fixtures/bundles/risk: run scripts/make-fixtures.sh`);
      }
      const [fresh, fixture] = await Promise.all([loadBundle(out), loadBundle(fixtureBundle('risk'))]);
      const all = (b: Bundle) => [...b.manifest.goldens.tensors, ...trainingGoldens(b.manifest), ...trainedWeightGoldens(b.manifest)];
      const [freshGoldens, fixtureGoldens] = [all(fresh), all(fixture)];
      assert.deepEqual(freshGoldens.map(describeGolden), fixtureGoldens.map(describeGolden), 'the same goldens: run scripts/make-fixtures.sh');
      const policy = new TolerancePolicy({});
      const outOfTolerance = fixtureGoldens.flatMap((golden, i) => {
        const values = toFloat64(bundleGolden(fresh, freshGoldens[i]!));
        const compared = compareGolden(golden, { shape: freshGoldens[i]!.shape, values }, toFloat64(bundleGolden(fixture, golden)), { backend: 'cpu', policy, label: describeGolden(golden) });
        return compared.comparison.passed ? [] : [`${compared.label}: max abs ${compared.comparison.maxAbsError}`];
      });
      assert.deepEqual(outOfTolerance, [], 'goldens out of float32 tolerance of the fixture: run scripts/make-fixtures.sh');
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("--float64-reference: every golden carries Keras's own float32 error and its kernel variants', which parity adds to atol and marks †", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-export-'));
    try {
      const out = path.join(tmp, 'swish');
      const r = await runCli(['export', '--out', out, '--factory', 'seed_models:swish_model', '--path', 'fixtures/seed', '--float64-reference']);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stderr, /float64 reference: \d+ goldens measured/);
      assert.match(r.stderr, /kernel variants: \d+ goldens measured under \S+, \S+/);
      const result = await checkBundleParity(out, { backends: ['cpu'] });
      assert.equal(result.outcome, 'pass');
      const tensors = result.backends[0]!.tensors;
      assert.ok(tensors.length > 0 && tensors.every((t) => t.float64Error !== null && t.referenceError === t.float64Error && t.float64Error! < 1e-6));
      assert.ok(tensors.every((t) => t.kernelVariantError != null && t.kernelVariantError < 1e-6));
      const table = formatParityTable({ schema: 'keras-bridge-parity', schemaVersion: 2, outcome: 'pass', models: [result], unavailableBackends: [] }, false);
      assert.match(table, /^† atol includes Keras's own float32 error, measured against float64 .*least accurate of Keras's float32 kernel variants/m);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
