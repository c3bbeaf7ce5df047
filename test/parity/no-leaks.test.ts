import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { convertBundle } from '../../src/convert/convert-bundle.js';
import { toModelArtifacts } from '../../src/convert/convert-model.js';
import { loadBundle } from '../../src/keras/bundle.js';
import '../../src/layers/seed/index.js';
import '../support/training-noise.js';
import { evaluateBundle } from '../../src/parity/evaluate-bundle.js';
import { parityModes } from '../../src/parity/modes/index.js';
import { fixtureBundle } from '../support/paths.js';

// The parity engine's own overhead (issue 14): every mode (end to end, layer alone, gradients,
// training mode with its replayed random draws, after training) run twice on one backend must end
// with the tensors it began with. The first run may create what kernels cache for good; the second
// must create nothing that stays.
const BUNDLES = ['swish', 'temporal', 'risk', 'training', 'deep', 'dilated_conv', 'constrained', 'two_branch'];

describe('parity evaluation leaks no tensor', () => {
  for (const backend of ['cpu', 'wasm']) {
    for (const name of BUNDLES) {
      it(`${name} on ${backend}: every mode (${parityModes().map((m) => m.name).join(', ')}), run twice, leaves tf.memory() as it found it`, async () => {
        await useBackend(backend);
        const bundle = await loadBundle(fixtureBundle(name));
        const converted = await convertBundle(bundle);
        const load = () => tf.loadLayersModel(tf.io.fromMemory(toModelArtifacts(converted)));
        await evaluateBundle(load, bundle);
        const before = tf.memory().numTensors;
        await evaluateBundle(load, bundle);
        assert.equal(tf.memory().numTensors, before, `${tf.memory().numTensors - before} tensors left behind by one parity evaluation`);
      });
    }
  }
});
