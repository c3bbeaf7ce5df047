import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SwishActivation } from '../../src/layers/seed/index.js';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';
import { expectParity } from '../../src/testing/index.js';
import { fixtureBundle } from '../support/paths.js';

describe('keras-bridge/testing: expectParity', () => {
  it('resolves with the results when the bundle matches Keras', async () => {
    const result = await expectParity(fixtureBundle('temporal'), { backends: ['cpu', 'wasm'] });
    assert.equal(result.outcome, 'pass');
    assert.deepEqual(result.backends.map((b) => b.backend), ['cpu', 'wasm']);
  });

  it('throws an AssertionError naming the first diverging layer and the worst element', async () => {
    (await import('../support/faulty-seed-layers.js')).registerWrongSwish();
    try {
      await assert.rejects(
        expectParity(fixtureBundle('swish')),
        (e: unknown) =>
          e instanceof AssertionError &&
          /first diverging layer is 'swish_activation'/.test(e.message) &&
          /layer swish_activation on cpu: \d+ \/ 128 elements .* worst at index/.test(e.message),
      );
    } finally {
      registerLayer('SwishActivation', SwishActivation);
    }
    await expectParity(fixtureBundle('swish'));
  });

  it('lists the failures when they are only in layer-isolated mode: tensor, layer, mode, worst element, smallest passing atol', async () => {
    // A copy of swish whose end-to-end goldens carry a huge measured Keras float32 error (as
    // --float64-reference writes for an ill-conditioned model): end to end, atol grows by twice it
    // and the wrong Swish passes; a layer run alone does not inherit that error, and fails.
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-expect-isolated-'));
    const dir = path.join(tmp, 'swish');
    await cp(fixtureBundle('swish'), dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    for (const golden of manifest.goldens.tensors) if (golden.kind !== 'input' && golden.kind !== 'cotangent') golden.float64_error = 100;
    delete manifest.goldens.after_training; // trained weights are not re-run in float64
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    (await import('../support/faulty-seed-layers.js')).registerWrongSwish();
    try {
      await assert.rejects(expectParity(dir), (e: unknown) => {
        assert.ok(e instanceof AssertionError);
        assert.match(e.message, /^keras-bridge parity: [1-9]\d* tensors of swish out of tolerance\n/);
        assert.match(
          e.message,
          /swish › layer swish_activation \(isolated\) on cpu: \d+ \/ 128 elements .* worst at index \[\d+, \d+\]: tfjs \S+ vs Keras \S+ .*; atol \S+ would have passed at rtol \S+ \(layer alone, forward, layer swish_activation\)/,
        );
        assert.match(e.message, /swish › grad .*\(isolated\) on cpu: .* \(layer alone, backward, layer swish_activation\)/);
        assert.doesNotMatch(e.message, /\(end to end/, 'end to end, everything passed');
        return true;
      });
    } finally {
      registerLayer('SwishActivation', SwishActivation);
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
