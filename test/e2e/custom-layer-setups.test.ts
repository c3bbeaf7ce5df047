import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { fixtureBundle, REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// fixtures/models/kw_config_layers.py: MeanPoolProjection(units, **kw) with no get_config, whose
// automatic config has no name. Its twin is written here as users write theirs: plain JavaScript,
// in a directory outside the repository (os.tmpdir()), importing tfjs, zod and keras-bridge by name.
const MEAN_POOL_PROJECTION = `import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { registerLayer } from 'keras-bridge';

export class MeanPoolProjection extends tf.layers.Layer {
  static className = 'MeanPoolProjection';
  constructor(args) {
    super(args);
    this.units = args.units;
  }
  build(inputShape) {
    this.kernel = this.addWeight('kernel', [inputShape[inputShape.length - 1], this.units], 'float32', tf.initializers.glorotUniform({}));
    this.built = true;
  }
  call(inputs) {
    return tf.tidy(() => tf.matMul(tf.mean(Array.isArray(inputs) ? inputs[0] : inputs, 1), this.kernel.read()));
  }
  computeOutputShape(inputShape) {
    return [inputShape[0], this.units];
  }
  getConfig() {
    return { ...super.getConfig(), units: this.units };
  }
}
registerLayer('MeanPoolProjection', MeanPoolProjection, z.object({ units: z.number().int().positive() }));
`;

const KERAS_FILES = path.join(REPO_ROOT, 'fixtures', 'keras');
const NODE_MODULES = path.join(REPO_ROOT, 'node_modules');
const TFJS_PACKAGES = ['tfjs', 'tfjs-core', 'tfjs-layers', 'tfjs-converter', 'tfjs-data', 'tfjs-backend-cpu', 'tfjs-backend-webgl'];
const OTHER_DEPENDENCIES = ['seedrandom', 'long', 'node-fetch'];

/**
 * A second installation of @tensorflow/tfjs in `nodeModules`: each tfjs package's package.json and
 * Node entry file copied (files of their own, so Node loads them as other modules, with a class
 * registry of their own), their other dependencies linked.
 */
async function installTfjsCopy(nodeModules: string): Promise<void> {
  for (const name of TFJS_PACKAGES) {
    const [from, to] = [path.join(NODE_MODULES, '@tensorflow', name), path.join(nodeModules, '@tensorflow', name)];
    const main = (JSON.parse(await readFile(path.join(from, 'package.json'), 'utf8')) as { main: string }).main;
    await mkdir(path.dirname(path.join(to, main)), { recursive: true });
    await copyFile(path.join(from, 'package.json'), path.join(to, 'package.json'));
    await copyFile(path.join(from, main), path.join(to, main));
  }
  for (const name of OTHER_DEPENDENCIES) await symlink(path.join(NODE_MODULES, name), path.join(nodeModules, name), 'dir');
}

describe('custom-layer modules outside the project, and configs without a name', function () {
  this.timeout(300_000);
  let tmp: string;
  let plainModule: string;
  let packageModule: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-user-layers-'));
    // (b) a plain .js file next to the model, no package.json, no node_modules.
    plainModule = path.join(tmp, 'plain', 'mean-pool.js');
    await mkdir(path.dirname(plainModule));
    await writeFile(plainModule, MEAN_POOL_PROJECTION);
    // (a) the user's own package, depending on keras-bridge (linked, as `npm install ../keras-bridge`
    // does) and on its own copy of @tensorflow/tfjs.
    const pkg = path.join(tmp, 'my-layers');
    packageModule = path.join(pkg, 'index.js');
    await mkdir(path.join(pkg, 'node_modules'), { recursive: true });
    await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: 'my-layers', type: 'module', dependencies: { 'keras-bridge': 'file:../keras-bridge', '@tensorflow/tfjs': '4.22.0' } }));
    await writeFile(packageModule, MEAN_POOL_PROJECTION);
    await installTfjsCopy(path.join(pkg, 'node_modules'));
    await symlink(REPO_ROOT, path.join(pkg, 'node_modules', 'keras-bridge'), 'dir');
    await symlink(path.join(REPO_ROOT, 'node_modules', 'zod'), path.join(pkg, 'node_modules', 'zod'), 'dir');
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  for (const bundle of ['kw_functional', 'kw_sequential']) {
    it(`${bundle}: a plain .js module with no node_modules converts and passes parity; the layer keeps its Keras name`, async () => {
      const out = path.join(tmp, `${bundle}-model`);
      const converted = await runCli(['convert', fixtureBundle(bundle), out, '--custom-layers', plainModule]);
      assert.equal(converted.exitCode, 0, converted.stderr);
      const layer = bundle === 'kw_functional' ? 'mean_pool' : 'pool';
      assert.match(converted.stdout, new RegExp(`name = "${layer}": added \\(the layer's config has no name`));
      const parity = await runCli(['parity', fixtureBundle(bundle), '--custom-layers', plainModule, '--backend', 'cpu']);
      assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
      assert.match(parity.stdout, new RegExp(`${bundle} +layer ${layer} .* pass`));
    });
  }

  it('the .keras files convert too, to the weights the bundles give (names from the functional layer list and the Sequential weights tags)', async () => {
    for (const name of ['kw_functional', 'kw_sequential']) {
      const [fromFile, fromBundle] = [path.join(tmp, `${name}-file`), path.join(tmp, `${name}-bundle`)];
      for (const [source, out] of [[path.join(KERAS_FILES, `${name}.keras`), fromFile], [fixtureBundle(name), fromBundle]] as const) {
        const converted = await runCli(['convert', source, out, '--custom-layers', plainModule, '--json']);
        assert.equal(converted.exitCode, 0, converted.stderr);
      }
      const json = async (dir: string, file: string) => JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Record<string, unknown>;
      assert.deepEqual((await json(fromFile, 'model.json'))['weightsManifest'], (await json(fromBundle, 'model.json'))['weightsManifest']);
      assert.deepEqual(await readFile(path.join(fromFile, 'group1-shard1of1.bin')), await readFile(path.join(fromBundle, 'group1-shard1of1.bin')));
    }
  });

  it("the user's own package, with its own copy of @tensorflow/tfjs, shares keras-bridge's: convert and parity pass", async () => {
    const converted = await runCli(['convert', fixtureBundle('kw_functional'), path.join(tmp, 'pkg-model'), '--custom-layers', packageModule]);
    assert.equal(converted.exitCode, 0, converted.stderr);
    const parity = await runCli(['parity', fixtureBundle('kw_functional'), '--custom-layers', packageModule, '--backend', 'cpu']);
    assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
  });

  it('imported without the CLI, that package registers its layer on its own tfjs copy: registerLayer refuses it, saying what to do', async () => {
    const script = `await import(${JSON.stringify(pathToFileURL(packageModule).href)});`;
    const result = await execa('node', ['--input-type=module', '-e', script], { reject: false });
    assert.notEqual(result.exitCode, 0);
    assert.match(
      String(result.stderr),
      /registerLayer\('MeanPoolProjection', \.\.\.\): the class does not extend keras-bridge's tf\.layers\.Layer; it was built on a second copy of @tensorflow\/tfjs .*--custom-layers .*npm dedupe/,
    );
  });
});
