import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readKerasModelFile } from '../../src/keras/keras-file/read-model-file.js';
import { cachedScriptOutput } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';

// Files nobody here wrote: every keras.applications family saved by model.save() (weights=None,
// every weight set to distinct random values first), beside what the live Keras model listed as its
// weights. scripts/make_application_files.py writes them into .cache/keras-applications (about
// 1 GB, about a minute on 2 cores; again only when the script changes).
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'make_application_files.py');
const SOURCES = [path.join(REPO_ROOT, 'scripts', 'make_keras_files.py')];
const APPLICATIONS = [
  'ConvNeXtTiny', 'DenseNet121', 'EfficientNetB0', 'EfficientNetV2B0', 'InceptionResNetV2', 'InceptionV3', 'MobileNet',
  'MobileNetV2', 'MobileNetV3Large', 'MobileNetV3Small', 'NASNetMobile', 'ResNet50', 'ResNet50V2', 'VGG16', 'Xception',
];

interface ExpectedWeight {
  layer: string;
  index: number;
  shape: number[];
  dtype: string;
  sha256: string;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('reading keras.applications models saved as .keras', function () {
  this.timeout(600_000);
  let dir: string;
  before(async () => {
    dir = await cachedScriptOutput(SCRIPT, 'keras-applications', SOURCES);
  });

  for (const name of APPLICATIONS) {
    it(`${name}.keras: every weight of every layer, in Keras's order, bit for bit`, async () => {
      const expected = JSON.parse(readFileSync(path.join(dir, `${name}.weights.json`), 'utf8')) as { weights: ExpectedWeight[] };
      const model = await readKerasModelFile(path.join(dir, `${name}.keras`));
      const actual = model.weights.map((w) => ({ layer: w.layer, index: w.index, shape: w.shape, dtype: w.dtype, sha256: sha256(w.bytes) }));
      const wanted = expected.weights.map(({ layer, index, shape, dtype, sha256 }) => ({ layer, index, shape, dtype, sha256 }));
      assert.deepEqual(actual, wanted);
    });
  }
});
