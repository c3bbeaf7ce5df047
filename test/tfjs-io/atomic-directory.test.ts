import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeDirectoryAtomically } from '../../src/tfjs-io/atomic-directory.js';

describe('writeDirectoryAtomically', () => {
  let parent: string;
  let target: string;
  beforeEach(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), 'kb-atomic-'));
    target = path.join(parent, 'model');
    await mkdir(target);
    await writeFile(path.join(target, 'model.json'), 'old');
  });
  afterEach(async () => rm(parent, { recursive: true, force: true }));

  it('replaces an existing directory and leaves nothing beside it', async () => {
    await writeDirectoryAtomically(target, (tmp) => writeFile(path.join(tmp, 'model.json'), 'new'));
    assert.equal(await readFile(path.join(target, 'model.json'), 'utf8'), 'new');
    assert.deepEqual(await readdir(parent), ['model']);
  });

  it('puts the old directory back when the new one cannot be renamed into place', async () => {
    // Removing the temporary directory makes the second rename (temporary → target) fail with
    // ENOENT, after the first has moved the old target aside.
    await assert.rejects(
      writeDirectoryAtomically(target, (tmp) => rm(tmp, { recursive: true })),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
    );
    assert.equal(await readFile(path.join(target, 'model.json'), 'utf8'), 'old');
    assert.deepEqual(await readdir(parent), ['model']);
  });

  it('leaves an existing directory untouched when writing fails', async () => {
    await assert.rejects(writeDirectoryAtomically(target, async () => Promise.reject(new Error('disk full'))), /disk full/);
    assert.equal(await readFile(path.join(target, 'model.json'), 'utf8'), 'old');
    assert.deepEqual(await readdir(parent), ['model']);
  });
});
