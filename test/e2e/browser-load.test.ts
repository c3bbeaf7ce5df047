import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { blankPage, browserMounts } from '../../src/browser/browser-page.js';
import { launchChromium } from '../../src/browser/chromium.js';
import { startStaticServer, type StaticServer } from '../../src/browser/static-server.js';
import { convertKerasModel } from '../../src/convert/convert-model.js';
import { weightsFromBundle } from '../../src/convert/weight-source.js';
import { bundleGolden, loadBundle } from '../../src/keras/bundle.js';
import { toFloat64 } from '../../src/keras/packed-tensor.js';
import '../../src/layers/seed/index.js';
import { compareTensors } from '../../src/parity/compare-tensors.js';
import { defaultTolerance } from '../../src/parity/tolerance.js';
import { writeModelDirectory } from '../../src/tfjs-io/model-directory.js';
import { fixtureBundle } from '../support/paths.js';

type Browser = Awaited<ReturnType<typeof launchChromium>>;

describe('converted models load with stock tf.loadLayersModel in Chromium', function () {
  this.timeout(120_000);
  let tmp: string;
  let server: StaticServer;
  let browser: Browser;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-browser-'));
    server = await startStaticServer(browserMounts({ '/models/': tmp }), { '/': blankPage() });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  for (const [name, backend] of [['swish', 'cpu'], ['risk', 'webgl'], ['two_branch', 'cpu'], ['temporal', 'webgl']] as const) {
    it(`${name} on ${backend}: the page loads model.json over HTTP and predicts what Keras predicted`, async () => {
      const bundle = await loadBundle(fixtureBundle(name));
      await writeModelDirectory(path.join(tmp, name), await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), name));
      const inputs = bundle.manifest.goldens.tensors
        .filter((g) => g.kind === 'input')
        .map((g) => ({ shape: g.shape, values: Array.from(toFloat64(bundleGolden(bundle, g))) }));
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/`);
      const outputs = await page.evaluate(
        async ({ modelUrl, inputs, backend }) => {
          const tf = await import('@tensorflow/tfjs');
          await import('/dist/src/layers/seed/index.js' as string);
          await tf.setBackend(backend);
          const model = await tf.loadLayersModel(modelUrl);
          const xs = inputs.map((x) => tf.tensor(x.values, x.shape));
          const ys = model.predict(xs.length === 1 ? xs[0]! : xs) as import('@tensorflow/tfjs').Tensor | import('@tensorflow/tfjs').Tensor[];
          const list = Array.isArray(ys) ? ys : [ys];
          return { backend: tf.getBackend(), outputs: await Promise.all(list.map(async (y) => ({ shape: y.shape, values: Array.from(await y.data()) }))) };
        },
        { modelUrl: `${server.url}/models/${name}/model.json`, inputs, backend },
      );
      await page.close();
      assert.deepEqual(errors, []);
      assert.equal(outputs.backend, backend);
      const goldens = bundle.manifest.goldens.tensors.filter((g) => g.kind === 'output');
      assert.equal(outputs.outputs.length, goldens.length);
      goldens.forEach((g, i) => {
        const expected = bundleGolden(bundle, g);
        const c = compareTensors(outputs.outputs[i]!.values, outputs.outputs[i]!.shape as number[], toFloat64(expected), expected.shape, defaultTolerance('float32'));
        assert.ok(c.passed, `output ${i}: max abs ${c.maxAbsError}`);
      });
    });
  }
});
