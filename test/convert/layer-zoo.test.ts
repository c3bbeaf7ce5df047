import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { probeBackend, type BackendName } from '../../src/backends/index.js';
import '../../src/layers/seed/index.js';
import { checkBundleParityCases } from '../../src/parity/check-parity.js';
import { backendVerdict } from '../../src/parity/parity-verdict.js';
import { FIXTURE_BUNDLES } from '../support/paths.js';
import { hostKernelCalls } from '../../src/backends/kernel-fixes/host-kernel.js';

// The layer zoo: one small Keras model per layer configuration (fixtures/zoo/<family>.py),
// exported with goldens by scripts/export_zoo.py. Every bundle must convert and match Keras in
// outputs, layer outputs and gradients on every backend that runs here, in training mode too where
// it differs from inference (random draws replayed from Keras, recurrent and attention dropout
// included), and each layer's backward pass alone must match Keras's gradients. A model with open
// dimensions (fixtures/zoo/open_dims.py) is recorded at two sizes, and each size is compared.
const ZOO = path.join(FIXTURE_BUNDLES, 'zoo');

const families = readdirSync(ZOO).sort();

/**
 * The exceptions to "training mode is compared": zoo models whose training mode keras-bridge
 * knowingly does not replay, with why, and the layers training mode must be reported "not compared"
 * for (each name must appear in the report). Every other zoo model must compare training mode.
 */
const AUGMENTATION_REASON =
  "Keras's random augmentation layers become KerasInferenceIdentity (the identity at inference); their training-mode transformations draw randomness keras-bridge does not replay";
const UNRECORDED_DRAWS_REASON =
  "the exporter cannot record this layer's training-mode draws (keras.random.randint, beta or gamma; it records only dropout, uniform, normal, truncated_normal), so the report names the Keras call that failed instead of the layer";
const TRAINING_NOT_COMPARED: Record<string, { reason: string; layers: string[]; mentions?: string[] }> = {
  'augmentation/augmented_convnet': { reason: AUGMENTATION_REASON, layers: ['augmentation/random_flip', 'augmentation/random_rotation', 'augmentation/random_zoom'] },
  'augmentation/random_brightness': { reason: AUGMENTATION_REASON, layers: ['random_brightness'] },
  'augmentation/random_contrast': { reason: AUGMENTATION_REASON, layers: ['random_contrast'] },
  'augmentation/random_flip': { reason: AUGMENTATION_REASON, layers: ['random_flip'] },
  'augmentation/random_rotation': { reason: AUGMENTATION_REASON, layers: ['random_rotation'] },
  'augmentation/random_translation': { reason: AUGMENTATION_REASON, layers: ['random_translation'] },
  'augmentation/random_zoom': { reason: AUGMENTATION_REASON, layers: ['random_zoom'] },
  'augmentation/aug_mix': { reason: UNRECORDED_DRAWS_REASON, layers: [], mentions: ['AugMix.call()'] },
  'augmentation/cut_mix': { reason: UNRECORDED_DRAWS_REASON, layers: [], mentions: ['CutMix.call()'] },
  'augmentation/mix_up': { reason: UNRECORDED_DRAWS_REASON, layers: [], mentions: ['MixUp.call()'] },
  'augmentation/rand_augment': { reason: UNRECORDED_DRAWS_REASON, layers: [], mentions: ['RandAugment.call()'] },
  'augmentation/random_color_degeneration': { reason: AUGMENTATION_REASON, layers: ['random_color_degeneration'] },
  'augmentation/random_color_jitter': { reason: AUGMENTATION_REASON, layers: ['random_color_jitter'] },
  'augmentation/random_erasing': { reason: AUGMENTATION_REASON, layers: ['random_erasing'] },
  'augmentation/random_gaussian_blur': { reason: AUGMENTATION_REASON, layers: ['random_gaussian_blur'] },
  'augmentation/random_grayscale': { reason: AUGMENTATION_REASON, layers: ['random_grayscale'] },
  'augmentation/random_hue': { reason: AUGMENTATION_REASON, layers: ['random_hue'] },
  'augmentation/random_invert': { reason: AUGMENTATION_REASON, layers: ['random_invert'] },
  'augmentation/random_perspective': { reason: AUGMENTATION_REASON, layers: ['random_perspective'] },
  'augmentation/random_posterization': { reason: UNRECORDED_DRAWS_REASON, layers: [], mentions: ['RandomPosterization.call()'] },
  'augmentation/random_saturation': { reason: AUGMENTATION_REASON, layers: ['random_saturation'] },
  'augmentation/random_sharpness': { reason: AUGMENTATION_REASON, layers: ['random_sharpness'] },
  'augmentation/random_shear': { reason: AUGMENTATION_REASON, layers: ['random_shear'] },
  'augmentation/solarization': { reason: AUGMENTATION_REASON, layers: ['solarization'] },
};

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
          const results = await checkBundleParityCases(path.join(ZOO, family, model), { backends });
          // One result per recorded size; the open_dims family's models are recorded at two sizes at least.
          if (family === 'open_dims') assert.ok(results.length >= 2 && results.every((r) => r.case), `${model}: sizes compared: ${results.map((r) => r.model).join(', ')}`);
          for (const result of results) {
            // Every compared tensor in every mode passes (parity-verdict.ts: end to end, each layer alone
            // forward and backward, training mode where it differs from inference, after training), and
            // every bundle carries the goldens for each layer's backward pass alone. Gradients tfjs
            // cannot take (dilated and depthwise convolutions) are reported not compared, which the
            // verdict makes 'incomplete'; that is tfjs's limit, not a conversion fault.
            const verdicts = result.backends.map((b) => ({ backend: b.backend, ...backendVerdict(b) }));
            const failures = verdicts.flatMap((v) => v.failures.map((f) => `${result.model} ${v.backend} ${f.mode} ${f.tensor.label}: max abs ${f.tensor.comparison.maxAbsError}`));
            assert.deepEqual(failures, []);
            const notCompared = verdicts.flatMap((v) => v.notCompared.map((n) => ({ backend: v.backend, ...n })));
            assert.deepEqual(notCompared.filter((n) => n.what === 'layer-alone gradients').map((n) => `${n.backend}: layer-isolated gradients not checked: ${n.reason}`), []);
            // Every recorded draw is replayed: no zoo model's training mode goes "not compared", except
            // the documented ones (TRAINING_NOT_COMPARED), which must say so for every backend, naming the layers.
            const trainingNotCompared = notCompared.filter((n) => n.what === 'training').map((n) => `${n.backend}: ${n.reason}`);
            const exception = TRAINING_NOT_COMPARED[`${family}/${model}`];
            if (!exception) {
              assert.deepEqual(trainingNotCompared, []);
            } else {
              assert.equal(trainingNotCompared.length, result.backends.length, `training mode must be reported not compared (${exception.reason})`);
              for (const line of trainingNotCompared) {
                for (const layer of exception.layers) assert.ok(line.includes(`layer '${layer}'`), `${line} does not name layer '${layer}'`);
                for (const text of exception.mentions ?? []) assert.ok(line.includes(text), `${line} does not mention ${text}`);
              }
              assert.ok(result.backends.every((b) => b.training !== undefined && b.training.tensors.length === 0));
            }
          }
        });
      }
    });
  }

  // Runs after every family (suites run in the order they are defined).
  describe('on wasm', () => {
    it('no gradient or forward kernel of any zoo model ran on the host (every kernel keras-bridge installs runs in wasm\'s memory)', function () {
      if (!backends.includes('wasm')) this.skip();
      const onHost = [...hostKernelCalls].filter(([key]) => key.startsWith('wasm/')).map(([key, calls]) => `${key}: ${calls} calls`);
      assert.deepEqual(onHost, []);
    });
  });
});
