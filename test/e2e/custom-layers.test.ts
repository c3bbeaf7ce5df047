import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { probeBackend } from '../../src/backends/index.js';
import { translateLayer } from '../../src/convert/translate-layer.js';
import { kerasPositions, positionsByOwner } from '../../src/convert/weight-pairing.js';
import type { SourceWeight } from '../../src/convert/weight-source.js';
import { inMemory } from '../../src/convert/weight-data.js';
import { WeightMismatchError } from '../../src/errors.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { cachedExport } from '../support/cached-export.js';
import { fixtureBundle, REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// fixtures/bundles/custom_layers (fixtures/models/custom_layers.py): custom layers as users write
// them, converted and checked through the CLI with their TypeScript twins as a --custom-layers
// module (test/support/user-custom-layers.ts), as the README's "Your own model" says.
const BUNDLE = fixtureBundle('custom_layers');
const LAYERS = path.join(REPO_ROOT, 'dist', 'test', 'support', 'user-custom-layers.js');
// The same model saved by Keras to a .keras file (scripts/make_keras_files.py custom_layers).
const KERAS_FILE = path.join(REPO_ROOT, 'fixtures', 'keras', 'custom_layers.keras');
// scalar_weights_model, exported to a cached bundle and saved (make_keras_files.py) as
// fixtures/keras/scalar_weights.keras and scalar_weights_legacy.h5.
const MODELS_FILE = path.join(REPO_ROOT, 'fixtures', 'models', 'custom_layers.py');

describe('custom layers as users write them', function () {
  this.timeout(300_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-custom-'));
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  it('convert and parity pass: automatic configs, sub-layer weights, constraints, two outputs, cumsum, a custom activation', async () => {
    const backends = ['cpu', 'wasm'];
    if ((await probeBackend('tensorflow')).available) backends.push('tensorflow');
    const converted = await runCli(['convert', BUNDLE, path.join(tmp, 'model'), '--custom-layers', LAYERS]);
    assert.equal(converted.exitCode, 0, converted.stderr);
    // Keras's automatic config of a layer without get_config: base fields, dropped with a reason.
    assert.match(converted.stdout, /autocast = true: dropped/);
    assert.match(converted.stdout, /"fixtures>scaled_tanh" → "customFixturesScaledTanh"/);
    const json = path.join(tmp, 'parity.json');
    const parity = await runCli(['parity', BUNDLE, '--custom-layers', LAYERS, '--backend', backends.join(','), '--json', json]);
    assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
    // Trained weights are compared too (3 SGD and 3 Adam steps, NonNeg applied after each).
    assert.match(parity.stdout, /after 3 optimizer steps: sgd with tfjs tf.train.sgd: all weights within tolerance/);
  });

  it('without their module, convert names every unregistered class at once, with its layers, config fields and the flag to pass', async () => {
    for (const source of [BUNDLE, KERAS_FILE]) {
      const refused = await runCli(['convert', source, path.join(tmp, 'refused')]);
      assert.equal(refused.exitCode, 2, refused.stdout);
      assert.match(refused.stderr, /5 custom layer classes have no TypeScript implementation registered:/);
      for (const [className, layer] of [['GainDense', 'gain_dense'], ['TrainScale', 'train_scale'], ['GainBlock', 'block'], ['GatedMix', 'gated'], ['RunningSum', 'running_sum']]) {
        assert.match(refused.stderr, new RegExp(`- ${className} \\(Python module 'custom_layers'\\): layer '${layer}';`));
      }
      assert.match(refused.stderr, /GainDense .*config fields units=4, kernel_regularizer=\{"module":"keras.regularizers","class_name":"L2"/);
      assert.match(refused.stderr, /registerLayer\('GainDense', GainDense, z\.object\(\{ units: z\.number\(\)\.int\(\), kernel_regularizer: z\.record\(z\.unknown\(\)\) \}\)\);/);
      assert.match(refused.stderr, /keras-bridge convert MODEL OUT_DIR --custom-layers \.\/my-layers\.js/);
    }
  });

  /**
   * A model file converted without Python gives the same tfjs weights, byte for byte, as the
   * bundle exported from the same seeded factory, and passes parity against that bundle's goldens.
   */
  async function convertsLikeTheBundle(modelFile: string, bundle: string, out: string): Promise<void> {
    const fromFile = path.join(tmp, out, 'from-file');
    const fromBundle = path.join(tmp, out, 'from-bundle');
    for (const [source, dir] of [[modelFile, fromFile], [bundle, fromBundle]] as const) {
      const converted = await runCli(['convert', source, dir, '--custom-layers', LAYERS]);
      assert.equal(converted.exitCode, 0, converted.stderr);
    }
    const manifest = async (dir: string) => (JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: unknown[] }[] }).weightsManifest;
    const [fileManifest, bundleManifest] = [await manifest(fromFile), await manifest(fromBundle)];
    assert.deepEqual(fileManifest.map((g) => g.weights), bundleManifest.map((g) => g.weights));
    const bytes = async (dir: string, groups: typeof fileManifest) =>
      createHash('sha256').update(Buffer.concat(await Promise.all(groups.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, p)))))).digest('hex');
    assert.equal(await bytes(fromFile, fileManifest), await bytes(fromBundle, bundleManifest));

    await import(LAYERS);
    const backends: ('cpu' | 'wasm' | 'tensorflow')[] = ['cpu', 'wasm'];
    if ((await probeBackend('tensorflow')).available) backends.push('tensorflow');
    const result = await checkBundleParity({ bundleDir: bundle, modelDir: fromFile }, { backends });
    assert.equal(result.outcome, 'pass', JSON.stringify(result.backends.map((b) => [b.backend, b.outcome])));
  }

  it('the .keras file converts without Python: sub-layer weights paired by name, the same as the bundle, and parity passes', async () => {
    await convertsLikeTheBundle(KERAS_FILE, BUNDLE, 'custom_layers');
  });

  describe('scalar weights (shape []): ScalarGain\'s add_weight(shape=()) and Attention(use_scale=True)', () => {
    let bundle: string;
    before(async () => {
      bundle = await cachedExport({ modelsFile: MODELS_FILE, factory: 'scalar_weights_model', cache: 'custom-layers', options: { seed: 0, batchSize: 2 } });
    });
    for (const file of ['scalar_weights.keras', 'scalar_weights_legacy.h5']) {
      it(`${file} converts without Python to the bundle's weights, and parity passes`, async () => {
        await convertsLikeTheBundle(path.join(REPO_ROOT, 'fixtures', 'keras', file), bundle, file);
      });
    }
  });

  it('sub-layer weights of a .keras file that names cannot pair are refused, naming the layer and the mismatch', () => {
    const owned = (owner: string, position: number): SourceWeight =>
      ({ layer: 'block', index: 0, name: 'w', path: `layers/gain_block/${owner}/vars/${position}`, shape: [4], dtype: 'float32', data: inMemory(new Uint8Array(16)), owner: { path: `block/${owner}`, position } });
    const keras = [owned('proj', 0), owned('proj', 1), owned('inner', 0), owned('inner', 1), owned('inner', 2)];
    // tfjs order: trainable first (inner's gain last); the file's: sorted by attribute.
    assert.deepEqual(positionsByOwner(['block/proj/kernel', 'block/proj/bias', 'block/inner/kernel', 'block/inner/bias', 'block/inner/gain'], keras, 'block', 'm.keras'), [0, 1, 2, 3, 4]);
    assert.deepEqual(positionsByOwner(['block/inner/kernel', 'block/inner/bias', 'block/proj/kernel', 'block/proj/bias', 'block/inner/gain'], keras, 'block', 'm.keras'), [2, 3, 0, 1, 4]);
    const refused = (names: string[], pattern: RegExp) =>
      assert.throws(() => positionsByOwner(names, keras, 'block', 'm.keras'), (e: Error) => e instanceof WeightMismatchError && /^m\.keras: layer 'block' keeps weights in sub-layers/.test(e.message) && pattern.test(e.message));
    refused(['block/kernel', 'block/bias', 'block/kernel_1', 'block/bias_1', 'block/gain'], /tfjs weight 'block\/kernel' names no sub-layer the file holds weights for \(the file holds: block\/proj \(2\), block\/inner \(3\)\)/);
    refused(['block/proj/kernel', 'block/proj/bias', 'block/proj/x', 'block/inner/kernel', 'block/inner/bias'], /tfjs gives 'block\/proj' more weights than the file's 2/);
    assert.throws(() => positionsByOwner(['block/proj/kernel', 'block/proj/bias'], [owned('proj', 0), owned('proj', 1), { ...owned('inner', 0), owner: { path: 'block/proj', position: 0 } }], 'block', 'm.keras'), /two sub-layers of the file are both named 'block\/proj'/);
  });

  it('a Python activation function without a registerActivation() is refused with its name and what to do', () => {
    const dense = {
      module: 'keras.layers',
      class_name: 'Dense',
      config: { name: 'head', units: 2, activation: { module: 'builtins', class_name: 'function', config: 'my_pkg>gelu_fast', registered_name: 'function' } },
    };
    assert.throws(
      () => translateLayer(dense, 'model.keras.json'),
      /model.keras.json: layer 'head', field 'activation': activation 'my_pkg>gelu_fast' is a custom Python function .* registerActivation\('my_pkg>gelu_fast'/,
    );
  });

  it('weights pair by name when tfjs names them as Keras paths, by position otherwise', () => {
    // GainBlock: Keras lists proj, inner (kernel, bias, gain), norm; tfjs lists gain last.
    const keras = ['b/proj/kernel', 'b/proj/bias', 'b/inner/kernel', 'b/inner/bias', 'b/inner/gain', 'b/norm/gamma', 'b/norm/beta'];
    const tfjs = ['b/proj/kernel', 'b/proj/bias', 'b/inner/kernel', 'b/inner/bias', 'b/norm/gamma', 'b/norm/beta', 'b/inner/gain'];
    assert.deepEqual(kerasPositions(tfjs, keras), [0, 1, 2, 3, 5, 6, 4]);
    assert.deepEqual(kerasPositions(['b/kernel', 'b/kernel_1'], ['b/proj/kernel', 'b/inner/kernel']), [0, 1]);
  });

  it('a layer whose sub-layers name two weights alike is refused at conversion, saying how to build them', async () => {
    class FlatBlock extends tf.layers.Layer {
      static readonly className = 'GainBlock';
      private readonly a = tf.layers.dense({ units: 4, name: 'a' });
      private readonly b = tf.layers.dense({ units: 4, name: 'b' });
      override build(shape: tf.Shape | tf.Shape[]): void {
        this.a.build(shape);
        this.b.build([null, 4]);
        this.built = true;
      }
      override get trainableWeights(): tf.LayerVariable[] {
        return [...this.a.trainableWeights, ...this.b.trainableWeights];
      }
    }
    const { planWeights } = await import('../../src/convert/weight-plan.js');
    const input = tf.input({ shape: [4] });
    const model = tf.model({ inputs: input, outputs: new FlatBlock({ name: 'block' }).apply(input) as tf.SymbolicTensor });
    const weights = model.layers[1]!.weights.map((w, index) => ({ layer: 'block', index, name: 'w', path: `block/w${index}`, shape: w.shape as number[], dtype: 'float32' as const, data: inMemory(new Uint8Array(4 * w.shape.reduce((a, b) => a! * b!, 1)!)) }));
    assert.throws(() => planWeights(model, weights, 'model.keras.json'), /layer 'block' \(GainBlock\): its tfjs implementation creates two weights named 'block\/kernel'.*subLayer.apply\(tf.input/);
    model.dispose();
  });
});
