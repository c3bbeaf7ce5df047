import assert from 'node:assert/strict';
import tf from '#tfjs';
import { BATCH_LINE } from '../../src/bench/bench-results.js';
import { finishedBatches } from '../../src/bench/partial-results.js';
import { timeModel } from '../../src/bench/time-model.js';
import { ReferenceCannotRun } from '../../src/bench/timing.js';
import { useBackend } from '../../src/backends/index.js';
import { onCpu } from '../support/backend-suite.js';

// A run that throws (wasm aborting when its 4 GB run out, on a large batch's backward pass) is
// reported in its cell, the cells timed before it are kept, and nothing is run after it.
describe('timeModel: a failing run', function () {
  // On cpu: the message is the error's own (wasm adds what an abort usually means there).
  onCpu();

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

// An alternative runtime that prepares per batch size (the traced graph traces there): called once
// per batch with its inputs, before its timings; a preparation that fails ends the timing as a run does.
describe('timeModel: a runtime prepared per batch size', function () {
  before(async () => {
    await useBackend('cpu');
  });

  it('prepares each batch size once, with the inputs its timings run on, and reports a failed preparation in its cells', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const prepared: number[][] = [];
    const preparedInputs = new Set<tf.Tensor>();
    const timedInputs = new Set<tf.Tensor>();
    const timings = await timeModel(model, { batchSizes: [4, 2, 8], repeats: 2, budgetS: 30, warmupS: 0 }, undefined, undefined, {
      async prepare(inputs) {
        prepared.push(inputs.map((x) => x.shape[0]!));
        preparedInputs.add(inputs[0]!);
        if (inputs[0]!.shape[0] === 8) throw new Error('TraceError: a kernel read the output of Max (op 3) back to the host');
      },
      forward: (inputs) => {
        timedInputs.add(inputs[0]!);
        return [model.predict(inputs[0]!) as tf.Tensor];
      },
      backward: { skipped: 'forward only' },
    });
    assert.deepEqual(prepared, [[2], [4], [8]], 'once per batch size, smallest first');
    assert.deepEqual([...timedInputs], [...preparedInputs].slice(0, 2), 'timed on the inputs it was prepared with');
    assert.ok('runs' in timings.batches['2']!.forward && 'runs' in timings.batches['4']!.forward);
    assert.deepEqual(timings.batches['8']!.forward, { skipped: 'not run: batch 8: Error: TraceError: a kernel read the output of Max (op 3) back to the host' });
    model.dispose();
  });
});

// A worker stopped during a backward pass (the cpu backend's ResNet50: its forward pass took 9.5 s,
// its backward pass outlasted the worker's 480 s) keeps the forward figure it reported.
describe('a bench worker stopped mid-batch: finishedBatches', function () {
  before(async () => {
    await useBackend('cpu');
  });

  it('reports each forward pass as it ends; the figures of a worker stopped in the backward pass keep it, and say why the rest are missing', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const printed: string[] = [];
    await timeModel(model, { batchSizes: [1, 4], repeats: 1, budgetS: 30 }, undefined, (batch, figures) => printed.push(`${BATCH_LINE} ${JSON.stringify({ batch, figures })}`));
    model.dispose();
    assert.equal(printed.length, 4, 'after the forward pass, then after both, per batch');
    // Stopped after batch 1 and batch 4's forward pass: the lines it had printed.
    const why = 'did not finish within 480 s';
    const batches = finishedBatches(['loading', ...printed.slice(0, 3)], [1, 4, 32], why)!;
    assert.ok('runs' in batches['1']!.forward && 'runs' in batches['1']!.backward);
    assert.ok('runs' in batches['4']!.forward, 'the forward pass of the batch it was stopped in');
    assert.deepEqual(batches['4']!.backward, { skipped: why });
    assert.deepEqual(batches['32'], { forward: { skipped: why }, backward: { skipped: why } });
    assert.equal(finishedBatches(['loading'], [1], why), undefined, 'no line: nothing to keep');
  });
});

// A cell whose passes alternate with Keras's (the bench's Keras partner): Keras's figures are kept
// beside the pass's, and a pass Keras cannot run is timed alone and says why.
describe('timeModel: passes alternated with Keras', function () {
  before(async () => {
    await useBackend('cpu');
  });

  it("keeps Keras's runs of each pass beside its own, and times alone a pass whose reference fails", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const asked: string[] = [];
    const lines: string[] = [];
    const timings = await timeModel(model, { batchSizes: [2], repeats: 3, budgetS: 30, warmupS: 0, minTimeS: 0 }, (line) => lines.push(line), undefined, undefined, (batch, pass) => ({
      warm: async () => {
        asked.push(`${batch} ${pass}`);
        if (pass === 'backward') throw new ReferenceCannotRun('Keras cannot run this: LookupError: No gradient defined');
      },
      run: async (runs) => Array.from({ length: runs }, () => 0.5),
    }));
    assert.deepEqual(asked, ['2 forward', '2 backward']);
    const figures = timings.batches['2']!;
    assert.deepEqual(figures.kerasAlongside?.forward, { medianMs: 0.5, p10Ms: 0.5, p90Ms: 0.5, runs: 3 });
    assert.deepEqual(figures.kerasAlongside?.backward, { skipped: 'Keras cannot run this: LookupError: No gradient defined' });
    assert.ok('runs' in figures.forward && 'runs' in figures.backward, 'both passes timed');
    assert.ok(lines.some((l) => /^batch 2 forward: .* Keras alongside 0\.5 ms \(3 runs\)/.test(l)), lines.join('\n'));
    assert.ok(lines.includes('batch 2 backward: timed alone: Keras cannot run this: LookupError: No gradient defined'), lines.join('\n'));
    model.dispose();
  });

  it('lets an error of its own pass end the timing as before, not time it alone', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const timings = await timeModel(model, { batchSizes: [2], repeats: 2, budgetS: 30, warmupS: 0, minTimeS: 0 }, undefined, undefined, {
      forward: () => {
        throw new Error('Aborted()');
      },
      backward: { skipped: 'forward only' },
    }, () => ({ warm: async () => undefined, run: async (runs) => Array.from({ length: runs }, () => 1) }));
    assert.deepEqual(timings.batches['2']!.forward, { skipped: 'batch 2 forward failed: Error: Aborted()' });
    model.dispose();
  });
});
