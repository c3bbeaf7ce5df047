import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { CONVERSION_OUTPUT, isConversionDirectory } from '../../src/tfjs-io/model-directory.js';
import { outputError, refuseUnsafeOutput } from '../../src/tfjs-io/output-directory.js';

describe('refuseUnsafeOutput (convert OUT_DIR)', () => {
  let tmp: string;
  const cwd = process.cwd();
  const home = process.env['HOME'];
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-outdir-'));
  });
  afterEach(async () => {
    process.chdir(cwd);
    if (home === undefined) delete process.env['HOME'];
    else process.env['HOME'] = home;
    await rm(tmp, { recursive: true, force: true });
  });

  const refused = (target: string, why: RegExp, inputs: string[] = []) =>
    assert.throws(
      () => refuseUnsafeOutput(target, CONVERSION_OUTPUT, inputs),
      (e: Error) => e instanceof InputError && e.message.startsWith(`OUT_DIR ${target}: refusing to write there: `) && why.test(e.message) && /Choose a new or empty directory/.test(e.message),
    );

  async function conversion(dir: string, how: 'report' | 'model.json'): Promise<string> {
    await mkdir(dir, { recursive: true });
    if (how === 'report') await writeFile(path.join(dir, 'conversion-report.json'), '{}');
    else await writeFile(path.join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', generatedBy: 'keras-bridge' }));
    await writeFile(path.join(dir, 'group1-shard1of1.bin'), 'w');
    return dir;
  }

  it('accepts a new path, an empty directory and an earlier conversion (by its report or its model.json)', async () => {
    refuseUnsafeOutput(path.join(tmp, 'new', 'deeper'), CONVERSION_OUTPUT);
    await mkdir(path.join(tmp, 'empty'));
    refuseUnsafeOutput(path.join(tmp, 'empty'), CONVERSION_OUTPUT);
    refuseUnsafeOutput(await conversion(path.join(tmp, 'a'), 'report'), CONVERSION_OUTPUT);
    refuseUnsafeOutput(await conversion(path.join(tmp, 'b'), 'model.json'), CONVERSION_OUTPUT);
  });

  it('refuses a foreign directory, including a tfjs model another tool wrote', async () => {
    const foreign = path.join(tmp, 'photos');
    await mkdir(foreign);
    await writeFile(path.join(foreign, 'model.json'), JSON.stringify({ generatedBy: 'TensorFlow.js tfjs-layers v4' }));
    assert.equal(isConversionDirectory(foreign), false);
    refused(foreign, /it is a non-empty directory that is not a keras-bridge conversion/);
    await writeFile(path.join(foreign, 'model.json'), '{not json');
    refused(foreign, /not a keras-bridge conversion/);
  });

  it('refuses a file, a symbolic link (even to a conversion), the root and home directories', async () => {
    const file = path.join(tmp, 'file');
    await writeFile(file, 'x');
    refused(file, /it exists and is not a directory/);
    const target = await conversion(path.join(tmp, 'conv'), 'report');
    await symlink(target, path.join(tmp, 'link'));
    refused(path.join(tmp, 'link'), /it is a symbolic link/);
    refused('/', /it is the root directory/);
    process.env['HOME'] = target; // a conversion: only the home rule refuses it
    refused(target, /it is your home directory/);
  });

  it('refuses the current directory and any directory containing it, whatever they hold', async () => {
    const inner = await conversion(path.join(tmp, 'outer', 'inner'), 'report');
    await writeFile(path.join(tmp, 'outer', 'conversion-report.json'), '{}');
    process.chdir(inner);
    refused('.', /it is the current directory/);
    refused(inner, /it is the current directory/);
    refused('..', /it contains the current directory/);
  });

  it('refuses the input and any directory containing it, through symbolic links too', async () => {
    const dir = await conversion(path.join(tmp, 'models'), 'report');
    const input = path.join(dir, 'model.keras');
    await writeFile(input, 'zip');
    refused(input, /it is the input/, [input]);
    refused(dir, /it contains the input/, [input]);
    refused(tmp, /it contains the input/, [input]);
    await symlink(dir, path.join(tmp, 'alias'));
    refused(dir, /it contains the input/, [path.join(tmp, 'alias', 'model.keras')]);
    refuseUnsafeOutput(path.join(dir, 'beside'), CONVERSION_OUTPUT, [input]); // inside the input's directory is fine
  });

  it('refuses an earlier conversion it could move aside but not remove (read-only)', async function () {
    if (process.getuid?.() === 0) this.skip(); // root may remove anything; test/e2e/output-directory.test.ts runs this as nobody
    const dir = await conversion(path.join(tmp, 'conv'), 'report');
    await mkdir(path.join(dir, 'custom-layers'));
    await chmod(path.join(dir, 'custom-layers'), 0o555);
    try {
      refused(dir, /replacing it means removing .*custom-layers, which is not writable \(EACCES\)/);
    } finally {
      await chmod(path.join(dir, 'custom-layers'), 0o755);
    }
  });

  it('outputError: errors of the location become InputErrors naming path and errno; others pass through', () => {
    const eacces = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: '/ro/.out.tmp-1-abcdef', syscall: 'mkdir' });
    const mapped = outputError('/ro/out', eacces);
    assert.ok(mapped instanceof InputError);
    assert.equal(mapped.message, '/ro/out: cannot write the output (EACCES on /ro/.out.tmp-1-abcdef: permission denied); choose a location you can write to, on a disk with free space.');
    for (const code of ['EPERM', 'EROFS', 'ENOSPC', 'ENOTDIR']) assert.ok(outputError('x', Object.assign(new Error(code), { code })) instanceof InputError, code);
    const bug = new TypeError('a bug');
    assert.equal(outputError('x', bug), bug);
    const enoent = Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    assert.equal(outputError('x', enoent), enoent);
  });
});
