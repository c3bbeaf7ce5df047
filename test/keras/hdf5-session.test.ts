import assert from 'node:assert/strict';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { openKerasModelFile } from '../../src/keras/keras-file/read-model-file.js';
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
});
