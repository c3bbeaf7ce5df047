import assert from 'node:assert/strict';
import { fixtureBundle } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

describe('parity can fail, and says where', () => {
  it('a Swish with the wrong sign makes parity exit 1 and names swish_activation', async () => {
    const r = await runCli(['parity', fixtureBundle('swish'), '--backend', 'cpu', '--custom-layers', 'dist/test/support/faulty-seed-layers.js']);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /layer swish_activation\s+cpu.*FAIL/);
    assert.match(r.stdout, /› layer swish_activation on cpu: \d+ \/ \d+ elements .* out of tolerance; worst at index \[\d+, \d+\]/);
    // Layers before the fault still pass: the report localizes it.
    assert.match(r.stdout, /layer dense\s+cpu.*pass/);
    assert.match(r.stdout, /swish on cpu: first diverging layer is 'swish_activation'/);
    // Run alone on Keras's own inputs, only the faulty layer fails: dense_1 after it is fine.
    assert.match(r.stdout, /swish on cpu, layer-isolated mode: out of tolerance when run alone on Keras's inputs: swish_activation\n/);
  });

  it('the correct seed layers pass the same bundle through the same command', async () => {
    const r = await runCli(['parity', fixtureBundle('swish'), '--backend', 'cpu', '--custom-layers', 'keras-bridge/layers/seed']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all pass/);
  });

  it('a TemporalWeighting with a transposed kernel is refused, naming the layer and both shapes', async () => {
    const r = await runCli(['parity', fixtureBundle('temporal'), '--backend', 'cpu', '--custom-layers', 'dist/test/support/transposed-temporal-weighting.js']);
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /layer 'temporal_weighting', weight '\w+' .* shape \[10, 5\] in Keras but tfjs expects \[5, 10\]/);
  });
});
