import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';
import { strictTypeErrors } from '../support/strict-type-check.js';

// `keras-bridge scaffold`: route 1's TypeScript written for a person to own, with a parity test.
const USER = path.join(REPO_ROOT, 'fixtures', 'models', 'user_layers.py');
const bundleOf = (factory: string) => cachedExport({ modelsFile: USER, factory, cache: 'translation', options: { seed: 0, batchSize: 2 } });

describe('keras-bridge scaffold', function () {
  this.timeout(600_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-scaffold-'));
    // The app the scaffold lands in: an ES module project with keras-bridge, tfjs and zod installed.
    await writeFile(path.join(tmp, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    await mkdir(path.join(tmp, 'node_modules'));
    await symlink(path.join(REPO_ROOT, 'node_modules', '@tensorflow'), path.join(tmp, 'node_modules', '@tensorflow'));
    await symlink(path.join(REPO_ROOT, 'node_modules', 'zod'), path.join(tmp, 'node_modules', 'zod'));
    await symlink(path.join(REPO_ROOT, 'node_modules', '@types'), path.join(tmp, 'node_modules', '@types'));
    await symlink(REPO_ROOT, path.join(tmp, 'node_modules', 'keras-bridge'));
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  it('writes every class, an index and a parity test that type-check under strict settings; the classes, compiled as they are, pass parity registered as hand-written', async () => {
    const bundle = await bundleOf('text_encoder_model');
    const out = path.join(tmp, 'text');
    const result = await runCli(['scaffold', bundle, '--out', out]);
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
    const classes = ['TokenAndPositionEmbedding', 'MaskedScale', 'TransformerBlock', 'RMSNorm', 'MultiHeadSelfAttention', 'GeGLUFeedForward', 'MaskedMeanPool'];
    for (const c of classes) assert.match(result.stdout, new RegExp(`custom-layers/${c}\\.ts: complete`), c);
    const files = [...classes.map((c) => path.join(out, 'custom-layers', `${c}.ts`)), path.join(out, 'custom-layers', 'index.ts'), path.join(out, 'parity.test.ts')];
    assert.deepEqual(strictTypeErrors(files, { types: ['node'] }), []);

    // Compile the classes as a person's build would, then use them as --custom-layers.
    const js = path.join(tmp, 'text-js');
    await mkdir(js);
    for (const file of files.slice(0, -1)) {
      const output = ts.transpileModule(await readFile(file, 'utf8'), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
      await writeFile(path.join(js, path.basename(file).replace(/\.ts$/, '.js')), output);
    }
    const parity = await runCli(['parity', bundle, '--backend', 'cpu', '--custom-layers', path.join(js, 'index.js')]);
    assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
    const converted = await runCli(['convert', bundle, path.join(tmp, 'text-converted'), '--custom-layers', path.join(js, 'index.js')]);
    assert.match(converted.stdout, /embed: TokenAndPositionEmbedding → registered TypeScript layer TokenAndPositionEmbedding/);
    assert.ok(!existsSync(path.join(tmp, 'text-converted', 'custom-layers.js')), 'nothing generated: the scaffolded classes were used');
  });

  it('writes a class it could not fully translate as a draft, each gap a TODO quoting the Python line', async () => {
    const out = path.join(tmp, 'branch');
    const result = await runCli(['scaffold', await bundleOf('tensor_branch_model'), '--out', out]);
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SignDependentActivation\.ts: draft, 1 TODO\n {2}TODO user_layers\.py:\d+: a Python `if` on a tensor's value/);
    const text = await readFile(path.join(out, 'custom-layers', 'SignDependentActivation.ts'), 'utf8');
    assert.match(text, /\/\/ TODO\(keras-bridge\): not translated: .*\n\s*\/\/ {3}Python: if tf\.reduce_mean\(x\) > 0:/);
  });

  it('never overwrites an existing directory', async () => {
    const out = path.join(tmp, 'mine');
    await mkdir(out);
    await writeFile(path.join(out, 'edited.ts'), '// a person\'s work\n');
    const result = await runCli(['scaffold', await bundleOf('text_encoder_model'), '--out', out]);
    assert.equal(result.exitCode, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /already exists; keras-bridge scaffold never overwrites/);
    assert.deepEqual(readdirSync(out), ['edited.ts']);
  });
});
