import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { convertKerasModel } from '../../src/convert/convert-model.js';
import { routeInputs } from '../../src/convert/route-inputs.js';
import type { LayerConversion } from '../../src/convert/conversion-report.js';
import { KerasBridgeError } from '../../src/errors.js';
import { inspectModel } from '../../src/inspect/inspect-model.js';
import type { InspectReport } from '../../src/inspect/inspect-report.js';
import type { KerasObject } from '../../src/keras/keras-object.js';
import { readModelInput, type ModelInput } from '../../src/cli/read-model-input.js';
import '../../src/layers/seed/index.js';
import '../support/user-custom-layers.js';
import { cachedExport } from '../support/cached-export.js';
import { FIXTURE_BUNDLES, REPO_ROOT, fixtureBundle } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// `keras-bridge inspect`: each layer's verdict comes from the converter itself, so inspect and
// convert agree on every fixture; the exporter's Python-only findings reach the report.
const MODELS_DIR = path.join(REPO_ROOT, 'fixtures', 'models');
const PYTHON_ONLY_FILE = path.join(MODELS_DIR, 'python_only_layers.py');
const SEED_FILE = path.join(REPO_ROOT, 'fixtures', 'seed', 'seed_models.py');

async function bundleDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.name === 'manifest.json')) return [dir];
  const nested = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => bundleDirs(path.join(dir, e.name))));
  return nested.flat().sort();
}

async function kerasFiles(): Promise<string[]> {
  const dir = path.join(REPO_ROOT, 'fixtures', 'keras');
  return (await readdir(dir)).filter((f) => /\.(keras|h5)$/.test(f)).map((f) => path.join(dir, f)).sort();
}

function convertedNames(layers: LayerConversion[], prefix: string[] = []): Set<string> {
  const names = new Set<string>();
  for (const layer of layers) {
    names.add(JSON.stringify([...prefix, layer.name]));
    for (const inner of convertedNames(layer.layers ?? [], [...prefix, layer.name])) names.add(inner);
  }
  return names;
}

/** What convert does with the same input (convert-command.ts: readModelInput, then convertKerasModel with the bundle's re-traces). */
async function convertOutcome(model: ModelInput): Promise<{ layers: Set<string> } | { error: string }> {
  try {
    const converted = await convertKerasModel(model.modelConfig, model.weights, model.source, await routeInputs(model.manifest, model.graphBytes));
    return { layers: convertedNames(converted.report.layers) };
  } catch (e) {
    if (!(e instanceof KerasBridgeError)) throw e;
    return { error: e.message };
  }
}

/** Inspect's verdicts hold for convert: a layer it converts is converted, a missing one makes convert fail naming it. */
function assertAgrees(report: InspectReport, outcome: { layers: Set<string> } | { error: string }, what: string): void {
  const missing = report.layers.filter((l) => l.status === 'missing');
  if ('layers' in outcome) {
    assert.equal(report.conversion.converts, true, `${what}: convert succeeds, inspect says it fails`);
    assert.deepEqual(missing, [], `${what}: convert succeeds, inspect says layers are missing`);
    for (const layer of report.layers.filter((l) => l.status !== 'dropped')) {
      assert.ok(outcome.layers.has(JSON.stringify([...layer.path, layer.name])), `${what}: inspect says ${layer.name} converts, convert has no such layer`);
    }
  } else {
    assert.equal(report.conversion.converts, false, `${what}: convert fails (${outcome.error}), inspect says it succeeds`);
    assert.equal((report.conversion as { error: string }).error, outcome.error, what);
    assert.ok(missing.length > 0 || report.layers.length === 0 || !/no TypeScript implementation|Keras layer class/.test(outcome.error), `${what}: convert fails on a layer, inspect lists none missing: ${outcome.error}`);
    for (const layer of missing) assert.ok(outcome.error.includes(`'${layer.name}'`), `${what}: inspect says ${layer.name} is missing, convert's error does not name it: ${outcome.error}`);
  }
}

/** (line, construct) of the `# python-only: construct` markers of a fixture file. */
async function markers(file: string): Promise<Set<string>> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  return new Set(lines.flatMap((text, i) => [...text.matchAll(/#\s*python-only:\s*(\w+)/g)].map((m) => `${i + 1} ${m[1]}`)));
}

async function lineOf(file: string, text: string): Promise<number> {
  return (await readFile(file, 'utf8')).split('\n').findIndex((l) => l.includes(text)) + 1;
}

describe('keras-bridge inspect', function () {
  this.timeout(300_000);
  let pythonOnlyBundle: string;
  let riskBundle: string;
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-inspect-'));
    pythonOnlyBundle = await cachedExport({ modelsFile: PYTHON_ONLY_FILE, factory: 'python_only_model', cache: 'inspect', options: { trainingMode: false } });
    riskBundle = await cachedExport({ modelsFile: SEED_FILE, factory: 'risk_model', cache: 'inspect', options: { trainingMode: false } });
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  it('agrees with convert on every fixture bundle and fixtures/keras file', async () => {
    const inputs = [...(await bundleDirs(FIXTURE_BUNDLES)), ...(await kerasFiles()), pythonOnlyBundle, riskBundle];
    const seen = new Set<string>();
    for (const input of inputs) {
      const model = await readModelInput(input);
      const report = await inspectModel(model.modelConfig, model.weights, model.source, model.manifest);
      assertAgrees(report, await convertOutcome(model), path.relative(REPO_ROOT, input));
      for (const layer of report.layers) seen.add(layer.missing ? `missing:${layer.missing.kind}` : layer.status);
    }
    // The fixtures exercise each verdict (kw_config_layers' classes are registered by no test module).
    for (const status of ['tfjs', 'keras-bridge', 'operation', 'registered', 'model', 'missing:unregistered']) assert.ok(seen.has(status), status);
  });

  it('names an unsupported Keras class with the converter\'s reason, and convert fails on it', async () => {
    const model = await readModelInput(fixtureBundle('two_branch'));
    const layers = model.modelConfig.config['layers'] as KerasObject[];
    const victim = layers.findIndex((l) => l.class_name === 'Dense');
    const planted: ModelInput = {
      ...model,
      modelConfig: { ...model.modelConfig, config: { ...model.modelConfig.config, layers: layers.map((l, i) => (i === victim ? { ...l, class_name: 'Hashing' } : l)) } },
    };
    const report = await inspectModel(planted.modelConfig, planted.weights, planted.source);
    const [missing, ...others] = report.layers.filter((l) => l.status === 'missing');
    assert.equal(others.length, 0);
    assert.equal(missing!.name, layers[victim]!.config['name']);
    assert.equal(missing!.missing!.kind, 'unsupported');
    assert.match(missing!.missing!.reason, /Keras layer class 'Hashing': uses a hash function \(FarmHash\) tfjs does not implement/);
    assertAgrees(report, await convertOutcome(planted), 'two_branch with a Hashing layer');
  });

  it('reports the Python-only constructs the exporter found, each with file and line, and no look-alike', async () => {
    const model = await readModelInput(pythonOnlyBundle);
    const report = await inspectModel(model.modelConfig, model.weights, model.source, model.manifest);
    const found = new Set(report.customClasses.flatMap((c) => c.pythonOnly!.findings.map((f) => `${f.line} ${f.construct}`)));
    assert.deepEqual(found, await markers(PYTHON_ONLY_FILE));
    for (const custom of report.customClasses) {
      assert.equal(custom.source!.file, 'python_only_layers.py');
      assert.equal(custom.source!.line, await lineOf(PYTHON_ONLY_FILE, `class ${custom.className}(`));
      for (const finding of custom.pythonOnly!.findings) assert.equal(finding.file, 'python_only_layers.py');
    }
    const missing = report.layers.filter((l) => l.status === 'missing').map((l) => [l.name, l.missing!.kind]);
    assert.deepEqual(missing, ['standardize', 'peak', 'sign', 'halve', 'clip', 'risk'].map((n) => [n, 'unregistered']));
  });

  it("finds the seed CustomRiskLayer's tf.py_function over NumPy with its line", async () => {
    const model = await readModelInput(riskBundle);
    const report = await inspectModel(model.modelConfig, model.weights, model.source, model.manifest);
    const [risk] = report.customClasses;
    assert.equal(risk!.className, 'CustomRiskLayer');
    assert.deepEqual(
      risk!.pythonOnly!.findings.map((f) => [f.construct, f.file, f.line]),
      [['py_function', 'seed_models.py', await lineOf(SEED_FILE, 'return tf.py_function(')]],
    );
    assert.equal(report.layers.find((l) => l.kerasClass === 'CustomRiskLayer')!.status, 'registered');
  });

  it('CLI: a table and --json, exit 0 with missing layers, 2 for unreadable input', async () => {
    const json = path.join(tmp, 'inspect.json');
    const r = await runCli(['inspect', pythonOnlyBundle, '--json', json]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^standardize\s+NumpyStandardize\s+MISSING\s+unregistered: custom class \(Python module 'python_only_layers'\)/m);
    assert.match(r.stdout, /^ {4}python_only_layers\.py:\d+: py_function in SquashedRisk\.call: squashed = tf\.py_function/m);
    assert.match(r.stdout, /^convert fails: 6 custom layer classes have no TypeScript implementation registered/m);
    const report = JSON.parse(await readFile(json, 'utf8')) as InspectReport;
    assert.equal(report.format, 'keras-bridge-inspect');
    assert.equal(report.counts.missing, 6);
    const registered = await runCli(['inspect', fixtureBundle('risk'), '--custom-layers', 'keras-bridge/layers/seed']);
    assert.equal(registered.exitCode, 0, registered.stderr);
    assert.match(registered.stdout, /^custom_risk_layer\s+CustomRiskLayer\s+registered custom\s+CustomRiskLayer$/m);
    assert.match(registered.stdout, /^convert succeeds: \d+ weight tensors/m);
    const notABundle = await runCli(['inspect', path.join(REPO_ROOT, 'docs')]);
    assert.equal(notABundle.exitCode, 2);
    assert.match(notABundle.stderr, /docs\/manifest\.json: cannot read/);
    assert.equal((await stat(json)).isFile(), true);
  });

  it("keras-bridge's runtime classes are named Keras…, tfjs-layers' are not (keras-bridge-classes.ts)", async () => {
    const script = [
      "import * as tf from '@tensorflow/tfjs';",
      'const names = () => Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);',
      'const tfjs = new Set(names());',
      `await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'runtime.js'))});`,
      'console.log(JSON.stringify({ tfjs: [...tfjs], ours: names().filter((n) => !tfjs.has(n)) }));',
    ].join('\n');
    const { stdout } = await execa('node', ['--input-type=module', '-e', script], { cwd: REPO_ROOT });
    const { tfjs, ours } = JSON.parse(stdout) as { tfjs: string[]; ours: string[] };
    assert.ok(ours.length > 30, `${ours.length} keras-bridge classes`);
    assert.deepEqual(tfjs.filter((n) => n.startsWith('Keras')), []);
    // Activation classes (kerasHardSilu, ...) are never a layer's class; every layer class is Keras….
    assert.deepEqual(ours.filter((n) => !n.startsWith('Keras') && !n.startsWith('keras')), []);
  });
});
