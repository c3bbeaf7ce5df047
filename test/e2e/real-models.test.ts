import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { probeBackend, type BackendName } from '../../src/backends/index.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { exportWithPython } from '../../src/python-export/python-exporter.js';
import { REPO_ROOT } from '../support/paths.js';

// Real architectures (fixtures/models/real_models.py), exported from Keras with weights=None on
// small inputs and checked for parity of outputs, every layer output and all gradients. Bundles
// are cached in .cache/real-models, keyed by the model and exporter sources, since the big ones
// are tens of MB and are not committed.
const MODELS_FILE = path.join(REPO_ROOT, 'fixtures', 'models', 'real_models.py');
const CACHE = path.join(REPO_ROOT, '.cache', 'real-models');

/** The plain cpu backend is too slow for the convnets; they run on wasm and tensorflow. */
const MODELS: Array<{ name: string; backends: BackendName[] }> = [
  { name: 'conv_autoencoder', backends: ['cpu', 'wasm', 'tensorflow'] },
  { name: 'text_classifier', backends: ['cpu', 'wasm', 'tensorflow'] },
  { name: 'transformer_encoder_block', backends: ['cpu', 'wasm', 'tensorflow'] },
  { name: 'mobilenet_v2', backends: ['wasm', 'tensorflow'] },
  { name: 'efficientnet_b0', backends: ['wasm', 'tensorflow'] },
  { name: 'densenet121', backends: ['wasm', 'tensorflow'] },
  { name: 'resnet50', backends: ['wasm', 'tensorflow'] },
];

function sourcesHash(): string {
  const hash = createHash('sha256').update(readFileSync(MODELS_FILE));
  const exporter = path.join(REPO_ROOT, 'python', 'keras_bridge');
  for (const file of readdirSync(exporter).filter((f) => f.endsWith('.py')).sort()) {
    hash.update(readFileSync(path.join(exporter, file)));
  }
  return hash.digest('hex');
}

async function cachedBundle(name: string, stamp: string): Promise<string> {
  const dir = path.join(CACHE, name);
  const stampFile = path.join(CACHE, `${name}.stamp`);
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(dir)) return dir;
  await mkdir(CACHE, { recursive: true });
  // Inference only: training mode would double these bundles and the test's time; it is proven on
  // the zoo's and fixtures/bundles/training's Dropout, BatchNormalization and custom layers.
  await exportWithPython({ out: dir, factory: `real_models:${name}`, paths: [path.dirname(MODELS_FILE)], batchSize: 1, trainingMode: false });
  await writeFile(stampFile, stamp);
  return dir;
}

describe('real models from keras.applications and common architectures', function () {
  this.timeout(600_000);
  const stamp = sourcesHash();
  const available = new Set<BackendName>();
  before(async () => {
    for (const name of ['cpu', 'wasm', 'tensorflow'] as const) if ((await probeBackend(name)).available) available.add(name);
  });

  for (const model of MODELS) {
    it(`${model.name}: outputs, layer outputs and gradients match Keras on ${model.backends.join(', ')}`, async () => {
      const bundle = await cachedBundle(model.name, stamp);
      const backends = model.backends.filter((b) => available.has(b));
      const result = await checkBundleParity(bundle, { backends });
      const failures = result.backends.flatMap((b) =>
        b.tensors
          .filter((t) => !t.comparison.passed)
          .map((t) => `${b.backend} ${t.label}: max abs ${t.comparison.maxAbsError.toExponential(2)}, min passing atol ${t.comparison.minPassingAtol.toExponential(2)}`),
      );
      assert.deepEqual(failures.slice(0, 20), [], `${failures.length} tensors out of tolerance`);
      const seconds = result.backends.map((b) => `${b.backend} ${b.seconds.toFixed(1)} s`).join(', ');
      console.log(`      ${model.name}: ${result.backends[0]?.tensors.length ?? 0} tensors per backend; ${seconds}`);
    });
  }
});
