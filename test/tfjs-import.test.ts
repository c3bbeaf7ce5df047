import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import tf from '#tfjs';
import { CLI, REPO_ROOT } from './support/paths.js';

/** Every .ts file under `dir`. */
async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

/** A value import of tfjs's umbrella package (a type-only import is erased, so costs nothing). */
const ES_IMPORT_OF_TFJS = /^import (?!type )[^;]*from '@tensorflow\/tfjs';|import\('@tensorflow\/tfjs'\)/m;

describe('#tfjs: tfjs through require in Node (src/tfjs.cts, tfjs-values.cts)', () => {
  it('is the same tfjs as an import of @tensorflow/tfjs (one engine, one class registry), its exports plain values', async () => {
    const required = createRequire(import.meta.url)('@tensorflow/tfjs') as Record<string, unknown>;
    const imported = await import('@tensorflow/tfjs');
    assert.equal(tf.engine(), imported.engine());
    assert.equal(tf.layers.Layer, imported.layers.Layer);
    const names = Object.keys(required);
    assert.ok(names.length > 400, `${names.length} exports`);
    assert.deepEqual(names.filter((name) => (tf as unknown as Record<string, unknown>)[name] !== required[name]), []);
    // No getter between a module and tf.add: the bundle re-exports core and layers through getters.
    const getters = names.filter((name) => Object.getOwnPropertyDescriptor(tf, name)?.get !== undefined);
    assert.ok(names.some((name) => Object.getOwnPropertyDescriptor(required, name)?.get !== undefined), 'the bundle no longer re-exports through getters');
    assert.deepEqual(getters, []);
  });

  it('is what every module under src/ and scripts/ imports: none imports @tensorflow/tfjs as an ES module', async () => {
    const files = [...(await sources(path.join(REPO_ROOT, 'src'))), ...(await sources(path.join(REPO_ROOT, 'scripts')))];
    assert.ok(files.length > 100, `found only ${files.length} sources`);
    // tfjs-module.ts is #tfjs outside Node, where there is no require.
    const offenders = [];
    for (const file of files) {
      if (path.basename(file) !== 'tfjs-module.ts' && ES_IMPORT_OF_TFJS.test(await readFile(file, 'utf8'))) offenders.push(path.relative(REPO_ROOT, file));
    }
    assert.deepEqual(offenders, [], `import tf from '#tfjs' instead (src/tfjs.cts says why) in: ${offenders.join(', ')}`);
  });

  it('keeps Node from resolving an ES import of @tensorflow/tfjs while a command starts (keras-bridge convert --help)', async () => {
    // A resolve hook (module.register) sees every ES import; require goes past it.
    const hook = `data:text/javascript,${encodeURIComponent(
      "export async function resolve(s, c, next) { if (s === '@tensorflow/tfjs') process.stderr.write('ES import of @tensorflow/tfjs from ' + c.parentURL + '\\n'); return next(s, c); }",
    )}`;
    const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hook)});`)}`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', register, CLI, 'convert', '--help'], { cwd: REPO_ROOT });
    assert.match(stdout, /keras-bridge convert/);
    assert.equal(stderr.split('\n').filter((line) => line.startsWith('ES import of')).join('\n'), '');
  });
});
