import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { convertKerasModel } from '../../src/convert/convert-model.js';
import { weightsFromBundle } from '../../src/convert/weight-source.js';
import { loadBundle } from '../../src/keras/bundle.js';
import { BrowserSession } from '../../src/browser/browser-session.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { writeModelDirectory } from '../../src/tfjs-io/model-directory.js';
import { changedEpsilon, transposedKernel, wrongActivation, type Fault } from '../support/fault-injection.js';
import { fixtureBundle } from '../support/paths.js';

// fixtures/bundles/deep: a 12-layer functional model (Dense, LayerNormalization,
// BatchNormalization, a residual Add). Each fault is planted at a known layer of the converted
// model; the report must name exactly that layer, end to end and layer by layer.
const FAULTS: Array<{ name: string; layer: string; fault: Fault }> = [
  { name: 'a wrong activation', layer: 'dense_4', fault: wrongActivation('dense_4', 'relu') },
  { name: 'a transposed kernel', layer: 'dense_2', fault: transposedKernel('dense_2') },
  { name: 'an epsilon changed in LayerNormalization', layer: 'layer_norm', fault: changedEpsilon('layer_norm', 0.1) },
  { name: 'an epsilon changed in BatchNormalization', layer: 'batch_norm', fault: changedEpsilon('batch_norm', 0.1) },
];

/** Node's cpu and wasm, and Chromium's cpu: the page loads the faulty model.json over HTTP. */
const BACKENDS = ['cpu', 'wasm', 'chromium-cpu'] as const;

describe('fault localization in a deep model', function () {
  this.timeout(180_000);
  let tmp: string;
  let browser: BrowserSession;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-faults-'));
    browser = new BrowserSession();
  });
  after(async () => {
    await browser.close();
    await rm(tmp, { recursive: true, force: true });
  });

  for (const { name, layer, fault } of FAULTS) {
    it(`${name} at '${layer}' is named as the first diverging layer and the only one failing alone, forward and backward (cpu, wasm, Chromium)`, async () => {
      const bundle = await loadBundle(fixtureBundle('deep'));
      const converted = await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), 'deep');
      const modelDir = path.join(tmp, layer);
      await writeModelDirectory(modelDir, fault(converted));
      const result = await checkBundleParity({ bundleDir: bundle.dir, modelDir }, { backends: [...BACKENDS], browser });
      assert.equal(result.outcome, 'fail');
      assert.deepEqual(result.backends.map((b) => b.backend), [...BACKENDS]);
      for (const backend of result.backends) {
        assert.equal(backend.firstDivergingLayer, layer, backend.backend);
        assert.deepEqual(backend.isolated.failingLayers, [layer], backend.backend);
        // Its backward pass, run alone on Keras's inputs and output gradients, is the only one out of tolerance too.
        assert.deepEqual(backend.isolated.gradients.failingLayers, [layer], backend.backend);
      }
    });
  }

  it('without a fault, the same model passes everywhere (the faults above are what fails)', async () => {
    const result = await checkBundleParity(fixtureBundle('deep'), { backends: [...BACKENDS], browser });
    assert.equal(result.outcome, 'pass');
  });
});
