import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { timeModel } from '../../src/bench/time-model.js';
import { activeBackendName, useBackend } from '../../src/backends/index.js';

// A run that throws (wasm aborting when its 4 GB run out, on a large batch's backward pass) is
// reported in its cell, the cells timed before it are kept, and nothing is run after it.
describe('timeModel: a failing run', function () {
  let previous: string | undefined;
  // On cpu: the message is the error's own (wasm adds what an abort usually means there).
  before(async () => {
    previous = activeBackendName();
    await useBackend('cpu');
  });
  after(async () => {
    if (previous) await useBackend(previous as 'cpu');
  });

  it("keeps the smaller batch's figures, reports the failure in its cell, and runs nothing after it", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const lines: string[] = [];
    const failAtBatch = 8;
    const timings = await timeModel(model, { batchSizes: [2, failAtBatch, 16], repeats: 1, budgetS: 30 }, (line) => lines.push(line), undefined, {
      forward: (inputs) => [model.predict(inputs[0]!) as tf.Tensor],
      backward: (inputs) => {
        if (inputs[0]!.shape[0] === failAtBatch) throw new Error('Aborted(). Build with -sASSERTIONS for more info.');
        return { read: [tf.sum(model.predict(inputs[0]!) as tf.Tensor)], unread: [] };
      },
    });
    assert.ok('runs' in timings.batches['2']!.forward && 'runs' in timings.batches['2']!.backward);
    assert.ok('runs' in timings.batches['8']!.forward, 'the forward pass before the failure keeps its figures');
    assert.deepEqual(timings.batches['8']!.backward, { skipped: 'batch 8 backward failed: Error: Aborted(). Build with -sASSERTIONS for more info.' });
    assert.deepEqual(timings.batches['16']!.forward, { skipped: 'not run: batch 8 backward failed: Error: Aborted(). Build with -sASSERTIONS for more info.' });
    assert.ok(lines.some((line) => line.startsWith('batch 8 backward failed')));
    model.dispose();
  });
});
