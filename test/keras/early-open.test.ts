import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { openKerasModelFile, openKerasModelFileEarly } from '../../src/keras/keras-file/read-model-file.js';
import { REPO_ROOT } from '../support/paths.js';

// The CLI starts opening a model file before it loads tfjs (src/cli/main.ts); the command's own
// openKerasModelFile takes that open, and only when it asks for the same file with the same limits.
describe('opening a model file early', function () {
  const fixture = path.join(REPO_ROOT, 'fixtures', 'keras', 'two_branch.keras');
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keras-bridge-early-open-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is taken by the next open of the same file, once: the open already holds the file, a later one does not', async function () {
    const file = path.join(dir, 'model.keras');
    copyFileSync(fixture, file);
    const opened = openKerasModelFileEarly(file);
    const fresh = await openKerasModelFile(fixture);
    await fresh.close();
    // The early open holds the file it opened: moved away now, it is still read.
    await opened;
    renameSync(file, path.join(dir, 'moved.keras'));
    const early = await openKerasModelFile(file);
    try {
      assert.deepEqual(early.weights.map((w) => [w.layer, w.name, w.shape]), fresh.weights.map((w) => [w.layer, w.name, w.shape]));
      const bytes = await early.readAll();
      assert.equal(bytes.length, early.weights.length);
    } finally {
      await early.close();
    }
    await assert.rejects(openKerasModelFile(file), (e: Error) => e instanceof InputError && e.message.includes(file));
  });

  it('is not taken by an open with other limits, which applies its own', async function () {
    const file = path.join(dir, 'model.keras');
    copyFileSync(fixture, file);
    openKerasModelFileEarly(file);
    await assert.rejects(openKerasModelFile(file, { limits: { maxEntryBytes: 16 } }), (e: Error) => e instanceof InputError && /16/.test(e.message));
    // The early open, with the default limits, is still there for an open that uses them.
    const opened = await openKerasModelFile(file);
    await opened.close();
  });

  it("keeps its error for whoever asks, and raises nothing before (no unhandled rejection)", async function () {
    const file = path.join(dir, 'notes.txt');
    writeFileSync(file, 'not a model');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await openKerasModelFileEarly(file);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
      await assert.rejects(openKerasModelFile(file), (e: Error) => e instanceof InputError && e.message.startsWith(`${file}: neither a .keras file`));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it("the CLI starts the HDF5 reader's thread before it loads a module of its own: its entry and the reader pool import only Node's", function () {
    // Static imports are all loaded before a module's body runs; a module of ours here would delay the thread's start by its whole import tree.
    const staticImports = (file: string) =>
      [...readFileSync(path.join(REPO_ROOT, 'dist', 'src', file), 'utf8').matchAll(/^import\s+(?:[^'";]*?from\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
    assert.deepEqual(staticImports('cli/main.js').sort(), ['../keras/keras-file/hdf5-reader-pool.js', 'node:fs']);
    assert.deepEqual(staticImports('keras/keras-file/hdf5-reader-pool.js'), ['node:worker_threads']);
  });
});
