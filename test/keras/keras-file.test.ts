import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { unzipSync, zipSync } from 'fflate';
import { useBackend } from '../../src/backends/index.js';
import { convertKerasModel, toModelArtifacts } from '../../src/convert/convert-model.js';
import { weightsFromBundle } from '../../src/convert/weight-source.js';
import { InputError } from '../../src/errors.js';
import { loadBundle } from '../../src/keras/bundle.js';
import { containerKeys, snakeCase } from '../../src/keras/keras-file/saved-object-names.js';
import { readKerasModelFile } from '../../src/keras/keras-file/read-model-file.js';
import '../../src/layers/seed/index.js';
import { defaultTolerance } from '../../src/parity/tolerance.js';
import { REPO_ROOT, SEED_BUNDLES, fixtureBundle } from '../support/paths.js';

// fixtures/keras/: .keras and .h5 files saved by Keras (scripts/make_keras_files.py), each with
// <name>.weights.json, what the live Keras model listed as its weights. The TypeScript reader must
// give the same list: same layers, order, shapes and bytes.
const KERAS_FIXTURES = path.join(REPO_ROOT, 'fixtures', 'keras');
const MODEL_FILES = readdirSync(KERAS_FIXTURES).filter((f) => /\.(keras|h5)$/.test(f)).sort();

interface ExpectedWeight {
  layer: string;
  index: number;
  keras_name: string;
  keras_path: string;
  shape: number[];
  dtype: string;
  sha256: string;
}
interface Expected {
  file: string;
  keras_version: string;
  weights: ExpectedWeight[];
  probe?: { inputs: number[][][]; outputs: number[][][] };
}

function expectedFor(file: string): Expected {
  const name = file.replace(/\.(keras|h5)$/, '');
  return JSON.parse(readFileSync(path.join(KERAS_FIXTURES, `${name}.weights.json`), 'utf8')) as Expected;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('reading .keras and .h5 model files without Python', () => {
  it('has fixtures', () => assert.ok(MODEL_FILES.length >= 10, MODEL_FILES.join(', ')));

  for (const file of MODEL_FILES) {
    it(`${file}: the weight list Keras gave, bit for bit`, async () => {
      const expected = expectedFor(file);
      const model = await readKerasModelFile(path.join(KERAS_FIXTURES, file));
      assert.equal(model.kerasVersion, expected.keras_version);
      // A custom layer's sub-layer order is not in the file: its weights carry their owner instead
      // (the Keras path of the sub-layer holding them), and their index is only the file's order.
      const ordered = (w: { layer: string; index: number }) => !model.weights.some((o) => o.layer === w.layer && o.owner);
      const actual = model.weights.map((w) => ({ layer: w.layer, index: ordered(w) ? w.index : -1, shape: w.shape, dtype: w.dtype, sha256: sha256(w.data.bytes) }));
      const wanted = expected.weights.map((w) => ({ layer: w.layer, index: ordered(w) ? w.index : -1, shape: w.shape, dtype: w.dtype, sha256: w.sha256 }));
      const key = (w: { layer: string; index: number; sha256: string }) => (w.index >= 0 ? '' : `${w.layer} ${w.sha256}`);
      const byLayerThenOwned = <W extends { layer: string; index: number; sha256: string }>(list: W[]) => list.map((w, i) => ({ w, i })).sort((a, b) => (a.w.layer === b.w.layer ? key(a.w).localeCompare(key(b.w)) || a.i - b.i : a.i - b.i)).map(({ w }) => w);
      assert.deepEqual(byLayerThenOwned(actual), byLayerThenOwned(wanted));
      for (const w of model.weights.filter((o) => o.owner)) {
        const paths = expected.weights.filter((e) => e.layer === w.layer && e.sha256 === sha256(w.data.bytes)).map((e) => e.keras_path.slice(0, e.keras_path.lastIndexOf('/')));
        assert.ok(paths.includes(w.owner!.path), `${w.path}: owner ${w.owner!.path}, Keras paths ${paths.join(', ')}`);
      }
      // Legacy .h5 files name each weight by Keras's own weight name; .keras files by its h5 slot.
      model.weights.forEach((w, i) => {
        if (file.endsWith('.h5')) assert.ok(w.path.endsWith(`/${expected.weights[i]!.keras_path}`), `${w.path} vs ${expected.weights[i]!.keras_path}`);
        else assert.match(w.path, new RegExp(`^layers/[a-z0-9_]+/(.+/)?vars/${'\\d+'}$`));
      });
    });
  }

  for (const name of [...SEED_BUNDLES, 'two_branch']) {
    it(`${name}.keras converts to the same tfjs weights as the bundle from the same seeded factory`, async () => {
      const file = await readKerasModelFile(path.join(KERAS_FIXTURES, `${name}.keras`));
      const fromFile = await convertKerasModel(file.modelConfig, file.weights, file.source);
      const bundle = await loadBundle(fixtureBundle(name));
      const fromBundle = await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), bundle.dir);
      assert.deepEqual(fromFile.weightSpecs, fromBundle.weightSpecs);
      assert.equal(sha256(fromFile.weightData), sha256(fromBundle.weightData));
    });
  }

  describe('converted models compute what Keras computed', () => {
    before(async () => useBackend('cpu'));
    for (const file of MODEL_FILES.filter((f) => expectedFor(f).probe)) {
      it(file, async () => {
        const { probe } = expectedFor(file);
        const read = await readKerasModelFile(path.join(KERAS_FIXTURES, file));
        const model = await tf.loadLayersModel(tf.io.fromMemory(toModelArtifacts(await convertKerasModel(read.modelConfig, read.weights, read.source))));
        try {
          const outputs = tf.tidy(() => {
            const result = model.predict(probe!.inputs.map((x) => tf.tensor(x)));
            return (Array.isArray(result) ? result : [result]).map((t) => t.arraySync() as number[][]);
          });
          const { atol, rtol } = defaultTolerance('float32');
          assert.equal(outputs.length, probe!.outputs.length);
          outputs.forEach((output, o) => {
            const actual = output.flat();
            probe!.outputs[o]!.flat().forEach((want, i) => {
              assert.ok(Math.abs(actual[i]! - want) <= atol + rtol * Math.abs(want), `output ${o}[${i}]: ${actual[i]} vs Keras ${want}`);
            });
          });
        } finally {
          model.dispose();
        }
      });
    }
  });

  describe('format detection and refusals', () => {
    let tmp: string;
    beforeEach(async () => {
      tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-keras-file-'));
    });
    afterEach(async () => rm(tmp, { recursive: true, force: true }));

    it('tells a .keras file by its bytes, whatever its extension', async () => {
      const renamed = path.join(tmp, 'model.h5');
      await writeFile(renamed, readFileSync(path.join(KERAS_FIXTURES, 'temporal.keras')));
      const model = await readKerasModelFile(renamed);
      assert.deepEqual(model.weights.map((w) => w.layer), ['temporal_weighting', 'dense', 'dense']);
    });

    it('refuses a file that is neither zip nor HDF5', async () => {
      const text = path.join(tmp, 'model.keras');
      await writeFile(text, 'not a model');
      await assert.rejects(readKerasModelFile(text), (e: Error) => e instanceof InputError && /model\.keras: neither a \.keras file \(zip\) nor a Keras \.h5 file/.test(e.message));
    });

    it('refuses a .keras file written by Keras 2, whose weight layout differs', async () => {
      const entries = unzipSync(readFileSync(path.join(KERAS_FIXTURES, 'temporal.keras')));
      entries['metadata.json'] = new TextEncoder().encode('{"keras_version": "2.15.0", "date_saved": "2024-01-01"}');
      const file = path.join(tmp, 'old.keras');
      await writeFile(file, zipSync(entries, { level: 0 }));
      await assert.rejects(readKerasModelFile(file), /old\.keras: written by Keras 2\.15\.0; keras-bridge reads \.keras files from Keras 3/);
    });

    it('refuses a config.json and a model.weights.h5 from different models', async () => {
      const entries = unzipSync(readFileSync(path.join(KERAS_FIXTURES, 'swish.keras')));
      entries['config.json'] = unzipSync(readFileSync(path.join(KERAS_FIXTURES, 'temporal.keras')))['config.json']!;
      const file = path.join(tmp, 'mixed.keras');
      await writeFile(file, zipSync(entries, { level: 0 }));
      await assert.rejects(readKerasModelFile(file), /mixed\.keras: model\.weights\.h5 group 'layers\/dense_1' holds variables that no layer in config\.json accounts for .*different models/);
    });

    it("names h5 groups the way Keras's to_snake_case does", () => {
      const cases = { Dense: 'dense', LSTM: 'lstm', MultiHeadAttention: 'multi_head_attention', Conv2DTranspose: 'conv2d_transpose', GRUCell: 'gru_cell', PReLU: 'p_re_lu', TemporalWeighting: 'temporal_weighting' };
      for (const [className, key] of Object.entries(cases)) assert.equal(snakeCase(className), key, className);
    });

    it("numbers a container's items as saving_lib does: by class, operations and plain values unnamed, lists as containers", () => {
      const layer = (class_name: string, module = 'keras.layers') => ({ module, class_name, config: {} });
      const items = [layer('Dense'), layer('Dropout'), layer('Add', 'keras.src.ops.numpy'), layer('Add'), [], layer('Dense'), 3, [], layer('MyBlock', 'my_layers')];
      assert.deepEqual(containerKeys(items), ['dense', 'dropout', undefined, 'add', 'container', 'dense_1', undefined, 'container_1', 'my_block']);
    });
  });
});
