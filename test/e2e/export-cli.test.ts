import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../../src/layers/seed/index.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { formatParityTable } from '../../src/report/parity-table.js';
import { fixtureBundle } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

describe('keras-bridge export drives the Python exporter', () => {
  it('exports the seed risk model with the same bytes as the checked-in fixture (fixtures are current and exports deterministic)', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-export-'));
    try {
      const out = path.join(tmp, 'risk');
      const r = await runCli(['export', '--out', out, '--factory', 'seed_models:risk_model', '--path', 'fixtures/seed', '--seed', '0', '--batch-size', '2', '--train-steps', '3']);
      assert.equal(r.exitCode, 0, r.stderr);
      for (const file of ['goldens.bin', 'weights.bin', 'model.keras.json']) {
        const fresh = await readFile(path.join(out, file));
        const fixture = await readFile(path.join(fixtureBundle('risk'), file));
        assert.ok(fresh.equals(fixture), `${file} differs from fixtures/bundles/risk: run scripts/make-fixtures.sh`);
      }
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
