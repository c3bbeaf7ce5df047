import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { bundleGolden, loadBundle } from '../../src/keras/bundle.js';
import { compareTensors } from '../../src/parity/compare-tensors.js';
import { defaultTolerance } from '../../src/parity/tolerance.js';
import { FIXTURE_BUNDLES, REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

const HELPER = pathToFileURL(path.join(REPO_ROOT, 'dist', 'src', 'tfjs-io', 'load-converted-model.js')).href;

// Keras operation nodes (x + y, ...) and EinsumDense: classes only keras-bridge's runtime registers.
const BUNDLES = ['zoo/topology/operations_on_symbolic_tensors', 'zoo/keras3_layers/einsum_dense'];

/** What a fresh Node process, importing nothing but the helper, predicts for `inputs`. */
async function predictInFreshProcess(modelDir: string, inputs: { shape: number[]; values: number[] }[]): Promise<{ shape: number[]; values: number[] }[]> {
  const script = `
    import * as tf from '@tensorflow/tfjs';
    const { loadConvertedModel } = await import(${JSON.stringify(HELPER)});
    const inputs = JSON.parse(process.argv[1]).map((x) => tf.tensor(x.values, x.shape));
    const model = await loadConvertedModel(${JSON.stringify(modelDir)});
    const outputs = [model.predict(inputs.length === 1 ? inputs[0] : inputs)].flat();
    process.stdout.write(JSON.stringify(outputs.map((y) => ({ shape: y.shape, values: Array.from(y.dataSync()) }))));`;
  const result = await execa('node', ['--input-type=module', '-e', script, JSON.stringify(inputs)], { cwd: REPO_ROOT, reject: false });
  assert.equal(result.exitCode, 0, String(result.stderr));
  return JSON.parse(String(result.stdout)) as { shape: number[]; values: number[] }[];
}

describe('loadConvertedModel', function () {
  this.timeout(120_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-load-'));
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  for (const name of BUNDLES) {
    it(`${name}: loads the converted directory from disk in plain Node and predicts what Keras predicted`, async () => {
      const bundleDir = path.join(FIXTURE_BUNDLES, name);
      const modelDir = path.join(tmp, path.basename(name));
      const converted = await runCli(['convert', bundleDir, modelDir]);
      assert.equal(converted.exitCode, 0, converted.stderr);
      assert.match(await readFile(path.join(modelDir, 'model.json'), 'utf8'), /"class_name": "Keras/);
      const bundle = await loadBundle(bundleDir);
      const goldens = bundle.manifest.goldens.tensors;
      const inputs = goldens.filter((g) => g.kind === 'input').map((g) => ({ shape: g.shape, values: Array.from(bundleGolden(bundle, g).values as Float32Array) }));
      const expected = goldens.filter((g) => g.kind === 'output');
      const outputs = await predictInFreshProcess(modelDir, inputs);
      assert.equal(outputs.length, expected.length);
      expected.forEach((golden, i) => {
        const keras = bundleGolden(bundle, golden);
        const comparison = compareTensors(outputs[i]!.values, outputs[i]!.shape, keras.values as Float32Array, keras.shape, defaultTolerance(golden.dtype));
        assert.equal(comparison.passed, true, JSON.stringify(comparison));
      });
    });
  }

  it('a missing weight shard is an error naming the shard and model.json', async () => {
    const modelDir = path.join(tmp, 'missing-shard');
    assert.equal((await runCli(['convert', path.join(FIXTURE_BUNDLES, BUNDLES[1]!), modelDir])).exitCode, 0);
    await unlink(path.join(modelDir, 'group1-shard1of1.bin'));
    const { loadConvertedModel } = (await import(HELPER)) as typeof import('../../src/tfjs-io/load-converted-model.js');
    await assert.rejects(loadConvertedModel(modelDir), /group1-shard1of1\.bin: cannot read weight shard \(ENOENT\), listed in .*model\.json/);
  });
});
