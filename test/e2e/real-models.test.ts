import assert from 'node:assert/strict';
import path from 'node:path';
import { probeBackend, type BackendName } from '../../src/backends/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { convertKerasModel } from '../../src/convert/convert-model.js';
import { weightsFromBundle } from '../../src/convert/weight-source.js';
import { loadBundle } from '../../src/keras/bundle.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { backendVerdict } from '../../src/parity/parity-verdict.js';
import { writeModelDirectory } from '../../src/tfjs-io/model-directory.js';
import { cachedExport } from '../support/cached-export.js';
import { changedEpsilon } from '../support/fault-injection.js';
import { REPO_ROOT } from '../support/paths.js';

// Real architectures (fixtures/models/real_models.py), exported from Keras with weights=None on
// small inputs and checked for parity of outputs, every layer output and all gradients; the
// small ones (with Dropout and BatchNormalization for it) in training mode too. Bundles
// are cached in .cache/real-models, keyed by the model and exporter sources, since the big ones
// are tens of MB and are not committed.
const MODELS_FILE = path.join(REPO_ROOT, 'fixtures', 'models', 'real_models.py');

/**
 * The plain cpu backend is too slow for the convnets; they run on wasm and tensorflow.
 *
 * `training`: the backends on which training mode is exported and compared too (a training=True
 * pass, Dropout masks recorded in Keras and replayed, BatchNormalization's batch statistics and
 * moving-statistics updates, and its gradients). `float64Reference`: export with
 * --float64-reference, so that each golden carries Keras's own float32 error E, measured against a
 * float64 copy of the model, and V, the float64 error of the least accurate of Keras's other
 * float32 kernel variants (oneDNN capped at AVX2, Eigen, oneDNN's default ISA); tfjs is allowed
 * E + max(E, V) (src/parity/compare-golden.ts, docs/tolerances.md).
 *
 * The keras.applications convnets are ill-conditioned in training mode: BatchNormalization
 * normalizes over a few values per channel (4 in the 2x2 stages of 32x32 inputs at batch 1), and
 * Keras float32 is as far from Keras float64 as tfjs is from Keras. At plain float32 tolerances
 * they fail on every backend. With the measured allowance, on tensorflow MobileNetV2, DenseNet121
 * and ResNet50 pass at worst 0.69, 0.55 and 0.56 of it (AMD EPYC, AVX-512, 2026-12-02; 2E alone
 * failed MobileNetV2 there on 18 tensors) and are checked here; EfficientNetB0 passes at 0.95, too
 * close to hold on every CPU, and is checked in inference mode only. wasm is checked in inference
 * mode only for the convnets (2.5 to 3.9 times further from the exact value than Keras on the
 * Intel machine; DenseNet121 and ResNet50 at 0.98 and 1.00 of the bound on the AMD one).
 */
const MODELS: Array<{ name: string; backends: BackendName[]; training: BackendName[]; float64Reference?: boolean }> = [
  { name: 'conv_autoencoder', backends: ['cpu', 'wasm', 'tensorflow'], training: ['cpu', 'wasm', 'tensorflow'] },
  { name: 'text_classifier', backends: ['cpu', 'wasm', 'tensorflow'], training: ['cpu', 'wasm', 'tensorflow'] },
  { name: 'transformer_encoder_block', backends: ['cpu', 'wasm', 'tensorflow'], training: ['cpu', 'wasm', 'tensorflow'] },
  { name: 'mobilenet_v2', backends: ['wasm', 'tensorflow'], training: ['tensorflow'], float64Reference: true },
  { name: 'efficientnet_b0', backends: ['wasm', 'tensorflow'], training: [] },
  { name: 'densenet121', backends: ['wasm', 'tensorflow'], training: ['tensorflow'], float64Reference: true },
  { name: 'resnet50', backends: ['wasm', 'tensorflow'], training: ['tensorflow'], float64Reference: true },
];



describe('real models from keras.applications and common architectures', function () {
  this.timeout(600_000);
  const available = new Set<BackendName>();
  before(async () => {
    for (const name of ['cpu', 'wasm', 'tensorflow'] as const) if ((await probeBackend(name)).available) available.add(name);
  });

  for (const model of MODELS) {
    const training =
      model.training.length > 0
        ? `, in training mode on ${model.training.join(', ')}${model.float64Reference ? " (within Keras's own float32 error plus its least accurate kernel variant's)" : ''}`
        : '';
    it(`${model.name}: outputs, layer outputs and gradients match Keras on ${model.backends.join(', ')}${training}`, async () => {
      const options = { batchSize: 1, trainingMode: model.training.length > 0, float64Reference: model.float64Reference ?? false };
      const bundle = await cachedExport({ modelsFile: MODELS_FILE, factory: model.name, cache: 'real-models', options });
      const backends = model.backends.filter((b) => available.has(b));
      const result = await checkBundleParity(bundle, { backends });
      const checkedInTraining = (b: { backend: string }) => (model.training as string[]).includes(b.backend);
      // The one definition of a failure (parity-verdict.ts): every mode, end to end and each layer
      // alone; training mode only on the backends listed for it (see above for wasm's).
      const failures = result.backends.flatMap((b) =>
        backendVerdict(b)
          .failures.filter((f) => f.mode !== 'training' || checkedInTraining(b))
          .map(({ mode, tensor: t }) => `${b.backend} ${mode} ${t.label}: max abs ${t.comparison.maxAbsError.toExponential(2)}, min passing atol ${t.comparison.minPassingAtol.toExponential(2)}`),
      );
      assert.deepEqual(failures.slice(0, 20), [], `${failures.length} tensors out of tolerance`);
      for (const { backend, training } of result.backends.filter(checkedInTraining)) {
        assert.ok(training, `${backend}: the bundle has no training mode`);
        assert.equal(training.notCompared, null, `${backend}: training mode not compared`);
        assert.ok(training.tensors.length > 0, `${backend}: training mode compared no tensors`);
        // The convnets checked in training mode have no Dropout: BatchNormalization is what differs there.
        if (model.float64Reference !== true) assert.ok(training.randomDraws > 0, `${backend}: training mode replayed no random draws`);
      }
      const first = result.backends.find(checkedInTraining)?.training;
      const trainingLine = first ? `, ${first.tensors.length} in training mode (${first.randomDraws} random draws replayed)` : '';
      const seconds = result.backends.map((b) => `${b.backend} ${b.seconds.toFixed(1)} s`).join(', ');
      console.log(`      ${model.name}: ${result.backends[0]?.tensors.length ?? 0} tensors per backend${trainingLine}; ${seconds}`);
    });
  }

  // The allowance above is wide where the model is ill-conditioned; a real fault there must still fail.
  it('mobilenet_v2: a BatchNormalization epsilon 30% off at its worst-conditioned layer still fails in training mode; 50% off, that layer is named first', async function () {
    if (!available.has('tensorflow')) this.skip();
    const options = { batchSize: 1, trainingMode: true, float64Reference: true };
    const bundleDir = await cachedExport({ modelsFile: MODELS_FILE, factory: 'mobilenet_v2', cache: 'real-models', options });
    const bundle = await loadBundle(bundleDir);
    const converted = await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), 'mobilenet_v2');
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-real-fault-'));
    const trainingWithEpsilon = async (epsilon: number) => {
      const modelDir = path.join(tmp, String(epsilon));
      await writeModelDirectory(modelDir, changedEpsilon('block_12_expand_BN', epsilon)(converted));
      const training = (await checkBundleParity({ bundleDir, modelDir }, { backends: ['tensorflow'] })).backends[0]?.training;
      const failing = (training?.tensors ?? []).filter((t) => !t.comparison.passed);
      assert.ok(failing.length > 0, `epsilon ${epsilon}: the fault passed within the float64 and kernel-variant allowance`);
      assert.ok(failing.every((t) => t.float64Error != null && t.kernelVariantError != null), 'the failing tensors had the measured allowance');
      return training!;
    };
    try {
      // The allowance is Keras's own measured float32 error, which depends on the CPU's kernels. The
      // layer's worst error grows about linearly with the change: 2.5e-3 at 10% off, 5.0e-3 at 20%,
      // 7.7e-3 at 30%, 1.3e-2 at 50% (AMD EPYC, AVX2, oneDNN off). 10% off was caught at 1.5 times
      // the bound with oneDNN (AVX-512) and passed within it without (AVX2); 20% was caught there
      // just; 30% is about 1.5 to 4.5 times the bound on both. Which layer shows it first depends on
      // the kernels too: the BatchNormalization or the ReLU after it, whose allowance is smaller.
      const slight = await trainingWithEpsilon(1.3e-3);
      assert.ok(['block_12_expand_BN', 'block_12_expand_relu'].includes(slight.firstDivergingLayer ?? ''), `named ${slight.firstDivergingLayer}`);
      // 1e-3 -> 1.5e-3: 7 times the bound, named at the layer itself on every kernel variant.
      assert.equal((await trainingWithEpsilon(1.5e-3)).firstDivergingLayer, 'block_12_expand_BN');
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
