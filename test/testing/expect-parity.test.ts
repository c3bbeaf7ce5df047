import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { SwishActivation } from '../../src/layers/seed/index.js';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';
import { expectParity } from '../../src/testing/index.js';
import { fixtureBundle } from '../support/paths.js';

describe('keras-bridge/testing: expectParity', () => {
  it('resolves with the results when the bundle matches Keras', async () => {
    const result = await expectParity(fixtureBundle('temporal'), { backends: ['cpu', 'wasm'] });
    assert.equal(result.passed, true);
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
});
