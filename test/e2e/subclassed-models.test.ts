import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeBackend, type BackendName } from '../../src/backends/index.js';
import { readModelInput } from '../../src/cli/read-model-input.js';
import { convertKerasModel } from '../../src/convert/convert-model.js';
import type { LayerConversion } from '../../src/convert/conversion-report.js';
import { UnsupportedLayerError } from '../../src/errors.js';
import { inspectModel } from '../../src/inspect/inspect-model.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { exportWithPython } from '../../src/python-export/python-exporter.js';
import { formatConversionReport } from '../../src/report/conversion-table.js';
import { formatInspectReport } from '../../src/report/inspect-table.js';
import { cachedExport, cachedKerasFiles } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';

// keras.Model subclasses built functionally in __init__, as libraries ship backbones and task
// models (fixtures/models/subclassed_models.py): exported through the graph the exporter records
// (python/keras_bridge/subclassed_models.py), converted with no TypeScript of their own, and
// checked like any functional model. Bundles cached in .cache/subclassed-models.
const MODELS_FILE = path.join(REPO_ROOT, 'fixtures', 'models', 'subclassed_models.py');
const CACHE = 'subclassed-models';

/** Each factory, and the subclassed models in it: [layer path, class], [] for the model itself. */
const MODELS: Array<{ factory: string; what: string; subclassed: Array<[string[], string]> }> = [
  { factory: 'tiny_classifier', what: 'a task model with a subclassed backbone nested in it', subclassed: [[[], 'TinyClassifier'], [['backbone'], 'TinyBackbone']] },
  {
    factory: 'classifier_in_functional',
    what: 'a functional model around the task model (two nested recorded graphs)',
    subclassed: [[['classifier'], 'TinyClassifier'], [['classifier', 'backbone'], 'TinyBackbone']],
  },
  { factory: 'backbone_in_sequential', what: 'a Sequential model with the backbone as a layer', subclassed: [[['backbone'], 'TinyBackbone']] },
  { factory: 'stacked_encoder', what: 'keras.Sequential blocks inside, two outputs', subclassed: [[[], 'StackedEncoder']] },
  { factory: 'siamese_scorer', what: 'one layer shared by two inputs', subclassed: [[[], 'SiameseScorer']] },
];

/** [path, class] of every model the report says was a recorded subclass. */
function recordedIn(layers: LayerConversion[], at: string[] = []): Array<[string[], string]> {
  return layers.flatMap((layer) => [
    ...(layer.subclassedModel ? [[[...at, layer.name], layer.subclassedModel.className] as [string[], string]] : []),
    ...recordedIn(layer.layers ?? [], [...at, layer.name]),
  ]);
}

describe('subclassed functional models: exported through their recorded graph, converted and checked', function () {
  this.timeout(300_000);
  const backends: BackendName[] = [];
  before(async () => {
    for (const name of ['cpu', 'wasm', 'tensorflow'] as const) if ((await probeBackend(name)).available) backends.push(name);
  });

  for (const { factory, what, subclassed } of MODELS) {
    it(`${factory} (${what}): the report names the subclassed models; outputs, layer outputs and gradients match Keras, in training mode too`, async () => {
      const bundle = await cachedExport({ modelsFile: MODELS_FILE, factory, cache: CACHE });
      const model = await readModelInput(bundle);
      const { report } = await convertKerasModel(model.modelConfig, model.weights, model.source);
      const top: Array<[string[], string]> = report.subclassedModel ? [[[], report.subclassedModel.className]] : [];
      assert.deepEqual([...top, ...recordedIn(report.layers)], subclassed);
      assert.match(formatConversionReport(report), /subclassed functional model \w+ \(tinylib>\w+\), converted through its recorded graph/);
      const result = await checkBundleParity(bundle, { backends });
      const failures = result.backends.flatMap((b) =>
        [...b.tensors, ...(b.training?.tensors ?? []), ...(b.isolated?.tensors ?? [])].filter((t) => !t.comparison.passed).map((t) => `${b.backend} ${t.label}`),
      );
      assert.deepEqual(failures, []);
      for (const b of result.backends) {
        assert.equal(b.outcome, 'pass', b.backend);
        assert.ok(b.tensors.some((t) => t.kind === 'grad_weight'), `${b.backend}: no weight gradients compared`);
        assert.equal(b.training?.notCompared ?? null, null, `${b.backend}: training mode not compared`);
      }
      assert.deepEqual(result.backends.map((b) => b.backend), backends);
      const counts = result.backends.map((b) => `${b.backend} ${b.tensors.length} + ${b.training?.tensors.length ?? 0} in training mode`);
      console.log(`      ${factory}: tensors compared: ${counts.join(', ')}`);
    });
  }

  it('exported from the .keras file model.save() wrote (--model, --module), the bundle is the factory\'s, byte for byte', async () => {
    const files = await cachedKerasFiles(MODELS_FILE, ['tiny_classifier', 'classifier_in_functional'], `${CACHE}-keras`);
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-subclassed-'));
    try {
      for (const [factory, file] of files) {
        const fromFile = path.join(tmp, factory);
        await exportWithPython({ out: fromFile, model: file, modules: ['subclassed_models'], paths: [path.dirname(MODELS_FILE)] });
        const fromFactory = await cachedExport({ modelsFile: MODELS_FILE, factory, cache: CACHE });
        for (const name of ['model.keras.json', 'weights.bin', 'goldens.bin']) {
          assert.deepEqual(await readFile(path.join(fromFile, name)), await readFile(path.join(fromFactory, name)), `${factory}: ${name} differs`);
        }
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('the .keras file itself holds constructor arguments only: convert says so and what to run instead', async () => {
    const files = await cachedKerasFiles(MODELS_FILE, ['tiny_classifier', 'classifier_in_functional'], `${CACHE}-keras`);
    // The model itself: stopped before its weights, which its config does not account for.
    await assert.rejects(readModelInput(files.get('tiny_classifier')!), (e: Error) => {
      assert.ok(e instanceof UnsupportedLayerError, String(e));
      assert.match(e.message, /tiny_classifier\.keras: the model is a keras\.Model subclass \(tinylib>TinyClassifier, Python module 'subclassed_models'\); its config holds only its constructor arguments \(name, trainable, backbone, num_classes\)/);
      assert.match(e.message, /keras-bridge export --model MODEL\.keras --module subclassed_models --out BUNDLE/);
      return true;
    });
    // Used as a layer: listed with the unregistered classes, with the same advice.
    const wrapper = await readModelInput(files.get('classifier_in_functional')!);
    await assert.rejects(convertKerasModel(wrapper.modelConfig, wrapper.weights, wrapper.source), /TinyClassifier \(Python module 'subclassed_models'\): layer 'classifier'.*\n.*This is a keras\.Model subclass: .*keras-bridge export --model MODEL\.keras --module subclassed_models/);
  });

  it('inspect says which models were subclassed and that they convert through their recorded graph', async () => {
    const bundle = await cachedExport({ modelsFile: MODELS_FILE, factory: 'tiny_classifier', cache: CACHE });
    const model = await readModelInput(bundle);
    const report = await inspectModel(model.modelConfig, model.weights, model.source, model.manifest);
    assert.equal(report.subclassedModel?.className, 'TinyClassifier');
    const backbone = report.layers.find((l) => l.name === 'backbone' && l.path.length === 0)!;
    assert.deepEqual([backbone.status, backbone.subclassedModel?.registeredName], ['model', 'tinylib>TinyBackbone']);
    assert.deepEqual(report.customClasses, []);
    assert.equal(report.conversion.converts, true);
    const text = formatInspectReport(report);
    assert.match(text, /^tiny_classifier \(subclassed functional model TinyClassifier \(tinylib>TinyClassifier\), converted through its recorded graph\)/);
    assert.match(text, /\nbackbone +Functional \(subclassed TinyBackbone\) +nested model +Model\n/);
  });
});
