import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { writeOutputFile } from '../../src/tfjs-io/output-file.js';

describe('writeOutputFile (parity --json/--junit/--html)', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-outfile-'));
  });
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  it('writes a new file, replaces an earlier one, and leaves no temporary beside it', async () => {
    const file = path.join(tmp, 'reports', 'parity.json');
    await writeOutputFile('--json', file, 'first');
    await writeOutputFile('--json', file, 'second');
    assert.equal(await readFile(file, 'utf8'), 'second');
    assert.deepEqual(await readdir(path.dirname(file)), ['parity.json']);
  });

  it('refuses a directory and replacing a file inside an input bundle (a new report beside its files is fine); a file in the path is an input error with its errno', async () => {
    const bundle = path.join(tmp, 'bundle');
    await mkdir(bundle);
    await writeFile(path.join(bundle, 'manifest.json'), 'keep');
    await assert.rejects(writeOutputFile('--json', bundle, 'x'), (e: Error) => e instanceof InputError && /--json .*bundle: refusing to write there: it is a directory/.test(e.message));
    await assert.rejects(writeOutputFile('--json', path.join(bundle, 'manifest.json'), 'x', [bundle]), /it would replace a file inside the input/);
    await assert.rejects(writeOutputFile('--json', bundle, 'x', [bundle]), /it is the input/);
    await writeOutputFile('--json', path.join(bundle, 'parity.json'), '{}', [bundle]);
    await rm(path.join(bundle, 'parity.json'));
    const inTheWay = path.join(tmp, 'file');
    await writeFile(inTheWay, 'x');
    await assert.rejects(writeOutputFile('--html', path.join(inTheWay, 'r.html'), 'x'), (e: Error) => e instanceof InputError && /--html .*r\.html: cannot write the output \((ENOTDIR|EEXIST)/.test(e.message));
    assert.equal(await readFile(path.join(bundle, 'manifest.json'), 'utf8'), 'keep');
    assert.deepEqual((await readdir(tmp)).sort(), ['bundle', 'file']);
  });
});
