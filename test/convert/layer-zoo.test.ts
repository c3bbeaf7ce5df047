import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { probeBackend, type BackendName } from '../../src/backends/index.js';
import '../../src/layers/seed/index.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { FIXTURE_BUNDLES } from '../support/paths.js';

// The layer zoo: one small Keras model per layer configuration (fixtures/zoo/<family>.py),
// exported with goldens by scripts/export_zoo.py. Every bundle must convert and match Keras in
// outputs, layer outputs and gradients on every backend that runs here, in training mode too where
// it differs from inference (random draws replayed from Keras, recurrent and attention dropout
// included), and each layer's backward pass alone must match Keras's gradients.
const ZOO = path.join(FIXTURE_BUNDLES, 'zoo');

const families = readdirSync(ZOO).sort();

describe('layer zoo: every translated Keras layer against Keras goldens', function () {
  const backends: BackendName[] = [];
  before(async () => {
    for (const name of ['cpu', 'wasm', 'tensorflow'] as const) {
      if ((await probeBackend(name)).available) backends.push(name);
    }
  });

  it('has bundles', () => assert.ok(families.length > 0));

  for (const family of families) {
    describe(family, () => {
      for (const model of readdirSync(path.join(ZOO, family)).sort()) {
        it(model, async () => {
          const result = await checkBundleParity(path.join(ZOO, family, model), { backends });
          // End to end, each layer's backward pass alone (layer-isolated gradients), and training mode
          // where it differs from inference (random draws replayed from Keras).
          const failures = result.backends.flatMap((b) => [
            ...[...b.tensors, ...b.isolated.gradients.tensors, ...(b.training?.tensors ?? [])].filter((t) => !t.comparison.passed).map((t) => `${b.backend} ${t.label}: max abs ${t.comparison.maxAbsError}`),
            ...(b.isolated.gradients.unavailable ? [`${b.backend}: layer-isolated gradients not checked: ${b.isolated.gradients.unavailable}`] : []),
          ]);
          assert.deepEqual(failures, []);
          // Every recorded draw is replayed: no zoo model's training mode goes "not compared".
          const notCompared = result.backends.flatMap((b) => (b.training?.notCompared ? [`${b.backend}: ${b.training.notCompared}`] : []));
          assert.deepEqual(notCompared, []);
        });
      }
    });
  }
});
