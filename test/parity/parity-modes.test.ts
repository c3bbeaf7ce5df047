import assert from 'node:assert/strict';
import { weightsInKerasOrder } from '../../src/convert/weight-pairing.js';
import { bundleWeight } from '../../src/keras/bundle.js';
import { toFloat64 } from '../../src/keras/packed-tensor.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { compareTensors } from '../../src/parity/compare-tensors.js';
import { findLayer, read, type ComputedTensor } from '../../src/parity/evaluate-model.js';
import { parityModes, registerParityMode } from '../../src/parity/modes/index.js';
import type { ParityRun, TensorParity } from '../../src/parity/parity-result.js';
import { backendVerdict } from '../../src/parity/parity-verdict.js';
import { formatJUnit } from '../../src/report/junit-report.js';
import { formatParityTable } from '../../src/report/parity-table.js';
import { fixtureBundle } from '../support/paths.js';

describe('parity-mode registry', () => {
  it('registers the built-in modes in the order they run and report', () => {
    assert.deepEqual(
      parityModes().map((m) => m.name),
      ['end-to-end', 'layer-alone-forward', 'layer-alone-backward', 'training', 'after-training', 'native-graph', 'native-graph-gradients', 'traced-graph'],
    );
    assert.throws(() => registerParityMode({ ...parityModes()[0]!, name: 'training' }), /registered twice/);
  });

  it('a mode added in one file is evaluated, compared, counted and reported by the shared code (weights as loaded, on cpu)', async function () {
    this.timeout(120_000);
    // The converted model's weights read back after tf.loadLayersModel, against the bundle's:
    // `corrupt` shifts one, so the new mode alone fails the run.
    let corrupt = false;
    const unregister = registerParityMode<Map<string, ComputedTensor>>({
      name: 'weights-as-loaded',
      title: 'weights as loaded',
      async evaluate({ model, bundle }) {
        const computed = new Map<string, ComputedTensor>();
        for (const w of bundle.manifest.weights) {
          const value = await read(weightsInKerasOrder(findLayer(model, w.layer, bundle), bundle)[w.index]!.read());
          if (corrupt && computed.size === 0) value.values[0]! += 1;
          computed.set(`${w.layer}:${w.index}`, value);
        }
        return computed;
      },
      compare({ bundle }, computed, draft) {
        const tensors = bundle.manifest.weights.map((w): TensorParity => {
          const actual = computed?.get(`${w.layer}:${w.index}`);
          const comparison = compareTensors(actual?.values ?? [], actual?.shape ?? [0], toFloat64(bundleWeight(bundle, w)), w.shape, { atol: 0, rtol: 0 });
          return { kind: 'trained_weight', label: `weight ${w.layer}[${w.index}] as loaded`, layer: w.layer, source: 'keras', referenceError: null, float64Error: null, kernelVariantError: null, comparison };
        });
        draft.modes = { ...draft.modes, 'weights-as-loaded': { tensors, notCompared: null } };
      },
      compared: (b) => (b.modes?.['weights-as-loaded']?.tensors ?? []).map((tensor) => ({ mode: 'weights-as-loaded', tensor, counted: true })),
      notCompared: () => [],
      tableRows: true,
      summaryLines: (model, b) => [`${model} on ${b.backend}, weights as loaded: ${b.modes?.['weights-as-loaded']?.tensors.length ?? 0} compared`],
      divergenceLines: () => [],
      reportGroups: (b) => [{ name: 'weights as loaded', tensors: b.modes?.['weights-as-loaded']?.tensors ?? [], rank: 5 }],
      chartSeries: [],
    });
    try {
      const bundle = fixtureBundle('deep');
      const passing = await checkBundleParity(bundle, { backends: ['cpu'] });
      const loaded = passing.backends[0]!.modes?.['weights-as-loaded']?.tensors ?? [];
      assert.ok(loaded.length > 0 && loaded.every((t) => t.comparison.passed));
      assert.equal(passing.outcome, 'pass');
      corrupt = true;
      const failing = await checkBundleParity(bundle, { backends: ['cpu'] });
      const verdict = backendVerdict(failing.backends[0]!);
      assert.equal(failing.outcome, 'fail');
      assert.deepEqual(verdict.failures.map((f) => f.mode), ['weights-as-loaded']);
      const run: ParityRun = { schema: 'keras-bridge-parity', schemaVersion: 2, outcome: 'fail', models: [failing], unavailableBackends: [] };
      const table = formatParityTable(run, false);
      assert.match(table, /weight \S+ as loaded .* FAIL/);
      assert.match(table, /deep on cpu, weights as loaded: \d+ compared/);
      assert.match(table, /\(weights as loaded, layer /);
      assert.match(formatJUnit(run), /name="cpu › weights as loaded \(\d+ tensors\)"[^>]*>\s*<failure/);
    } finally {
      unregister();
    }
    assert.ok(!parityModes().some((m) => m.name === 'weights-as-loaded'));
  });
});
