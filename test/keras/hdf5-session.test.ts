import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { openKerasModelFile } from '../../src/keras/keras-file/read-model-file.js';
import { outputError } from '../../src/tfjs-io/output-directory.js';
import { REPO_ROOT } from '../support/paths.js';

// hdf5-worker.ts: the HDF5 reader's thread answers one request at a time; reads asked for while it
// is busy go to it together in its next request, each caller getting its own datasets back.
describe('reads of a model file asked for while its reader is busy', function () {
  const fixture = path.join(REPO_ROOT, 'fixtures', 'keras', 'two_branch.keras');

  it('go to the reader in one request, each read answered with its own bytes', async function () {
    const opened = await openKerasModelFile(fixture);
    const post = Worker.prototype.postMessage;
    const requests: string[][] = [];
    const spy = function (this: Worker, message: unknown, ...rest: unknown[]) {
      const request = message as { kind?: string; paths?: string[] };
      if (request?.kind === 'read') requests.push(request.paths ?? []);
      return (post as (...args: unknown[]) => void).call(this, message, ...rest);
    } as typeof post;
    Worker.prototype.postMessage = spy;
    try {
      assert.ok(opened.weights.length >= 4, `${opened.weights.length} weights`);
      const each = await Promise.all(opened.weights.map((w) => w.data.read()));
      // The request is made when the reader is free: reads asked for in the same turn all go in it.
      assert.deepEqual(requests, [opened.weights.map((w) => w.path)]);
      Worker.prototype.postMessage = post;
      const whole = await opened.readAll();
      assert.deepEqual(
        each.map((b) => Buffer.from(b).toString('hex')),
        whole.map((b) => Buffer.from(b).toString('hex')),
      );
      each.forEach((b, i) => assert.equal(b.byteLength, opened.weights[i]!.data.byteLength, opened.weights[i]!.path));
      // Asked while a request is in flight: they wait for its answer, then go together.
      requests.length = 0;
      Worker.prototype.postMessage = spy;
      const first = opened.weights[0]!.data.read();
      await Promise.resolve();
      await Promise.resolve();
      const later = opened.weights.slice(1).map((w) => w.data.read());
      const again = await Promise.all([first, ...later]);
      assert.deepEqual(requests, [[opened.weights[0]!.path], opened.weights.slice(1).map((w) => w.path)]);
      assert.deepEqual(again.map((b) => Buffer.from(b).toString('hex')), whole.map((b) => Buffer.from(b).toString('hex')));
    } finally {
      Worker.prototype.postMessage = post;
      await opened.close();
    }
  });

  it('copies go to the reader together too, each dataset written into its ranges; a system error keeps its errno and path', async function () {
    const opened = await openKerasModelFile(fixture);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kb-session-copies-'));
    const post = Worker.prototype.postMessage;
    const requests: number[] = [];
    Worker.prototype.postMessage = function (this: Worker, message: unknown, ...rest: unknown[]) {
      const request = message as { kind?: string; copies?: unknown[] };
      if (request?.kind === 'copy') requests.push(request.copies?.length ?? 0);
      return (post as (...args: unknown[]) => void).call(this, message, ...rest);
    } as typeof post;
    try {
      const whole = await opened.readAll();
      const shard = path.join(dir, 'shard.bin');
      const total = whole.reduce((n, b) => n + b.byteLength, 0);
      writeFileSync(shard, Buffer.alloc(total));
      let at = 0;
      const copies = opened.weights.map((w) => {
        const ranges = [{ path: shard, position: at, length: w.data.byteLength }];
        at += w.data.byteLength;
        return w.data.copyTo!(ranges);
      });
      const finite = await Promise.all(copies);
      assert.deepEqual(requests, [opened.weights.length], 'asked in one turn: one request');
      assert.deepEqual(finite, opened.weights.map(() => ({ allFinite: true })));
      assert.ok(readFileSync(shard).equals(Buffer.concat(whole)));
      // Not through a symbolic link: ELOOP, with the path, as an output error of the conversion's.
      const link = path.join(dir, 'link.bin');
      symlinkSync(shard, link);
      const error = await opened.weights[0]!.data.copyTo!([{ path: link, position: 0, length: opened.weights[0]!.data.byteLength }]).then(
        () => assert.fail('copied through a symbolic link'),
        (e: NodeJS.ErrnoException) => e,
      );
      assert.deepEqual([error.code, error.path, error.syscall], ['ELOOP', link, 'open']);
      assert.match((outputError('out', error) as Error).message, /^out: cannot write the output \(ELOOP on .*link\.bin: too many symbolic links\)/);
    } finally {
      Worker.prototype.postMessage = post;
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
