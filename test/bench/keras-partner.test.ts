import assert from 'node:assert/strict';
import path from 'node:path';
import { KerasPartner } from '../../src/bench/keras-partner.js';
import { partnerReference } from '../../src/bench/partner-reference.js';
import { ReferenceCannotRun, timedAlternating } from '../../src/bench/timing.js';
import { resolvePython } from '../../src/python-export/python-exporter.js';
import { REPO_ROOT } from '../support/paths.js';

// Keras's side of the bench kept in one Python process per model (scripts/bench_keras.py --serve),
// running its tf.function passes on request, for the cells' runs to alternate with.
describe('the bench\'s Keras partner', function () {
  this.timeout(300_000);
  const model = (factory: string) => ({
    python: resolvePython(),
    script: path.join(REPO_ROOT, 'scripts', 'bench_keras.py'),
    modelsFile: path.join(REPO_ROOT, 'fixtures', 'seed', 'seed_models.py'),
    factory,
  });
  let swish: KerasPartner;
  before(async () => {
    swish = await KerasPartner.start(model('seed_models:swish_model'));
  });
  after(async () => swish?.close());

  it("says the model's size when it is ready, warms a pass up and runs it as many times as asked", async () => {
    assert.ok(swish.parameters > 0 && swish.weightBytes === 4 * swish.parameters, `${swish.parameters} parameters, ${swish.weightBytes} bytes`);
    const warm = await swish.request({ op: 'warm', batch: 2, way: 'function_forward', warmup_s: 0 });
    assert.deepEqual(warm, { runs: 1 });
    const run = await swish.request({ op: 'run', batch: 2, way: 'function_backward', runs: 3 });
    assert.ok('times_ms' in run && run.times_ms.length === 3 && run.times_ms.every((t) => t > 0), JSON.stringify(run));
  });

  it('answers requests in the order asked, however many are waiting', async () => {
    const replies = await Promise.all([1, 2, 3].map((runs) => swish.request({ op: 'run', batch: 1, way: 'function_forward', runs })));
    assert.deepEqual(replies.map((r) => ('times_ms' in r ? r.times_ms.length : r)), [1, 2, 3]);
  });

  it('answers a request it cannot read with an error, and goes on', async () => {
    const bad = await swish.request({ op: 'jump', batch: 1, way: 'function_forward', runs: 1 } as never);
    assert.ok('error' in bad && bad.error.startsWith('bad request:'), JSON.stringify(bad));
    const good = await swish.request({ op: 'run', batch: 1, way: 'function_forward', runs: 1 });
    assert.ok('times_ms' in good);
  });

  it('times a pass alternated with Keras through partnerReference', async () => {
    const reference = partnerReference((r) => swish.request(r), 2, 'forward');
    const spin = async () => {
      const start = performance.now();
      while (performance.now() - start < 1) { /* a 1 ms pass */ }
    };
    const { ours, reference: keras } = await timedAlternating(spin, reference, 5, 30, 0, 0);
    assert.ok('runs' in ours && 'runs' in keras && ours.runs === 5 && keras.runs === 5);
    assert.ok(keras.medianMs > 0);
  });

  it("turns Keras's failure and a partner that ended into ReferenceCannotRun, for the cell to be timed alone", async () => {
    const failing = partnerReference(async () => ({ error: 'Keras cannot run this: LookupError: No gradient defined for operation' }), 2, 'backward');
    await assert.rejects(failing.warm(0), (e: unknown) => e instanceof ReferenceCannotRun && /No gradient defined/.test(e.message));
    const ended = await KerasPartner.start(model('seed_models:swish_model'));
    await ended.close();
    await assert.rejects(partnerReference((r) => ended.request(r), 2, 'forward').run(1), (e: unknown) => e instanceof ReferenceCannotRun && /partner failed/.test(e.message));
    assert.match(JSON.stringify(await ended.answer({ op: 'run', batch: 2, way: 'function_forward', runs: 1 })), /\{"error":"the Keras partner failed: the Keras partner ended"\}/, 'a forwarded request gets an error reply, not a rejection');
  });

  it('refuses to start on a factory that does not exist, with what Python said', async () => {
    await assert.rejects(KerasPartner.start(model('seed_models:no_such_model')), /did not start: .*no_such_model/);
  });
});
