import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KerasObject } from '../../src/keras/keras-object.js';
import { compareTensors } from '../../src/parity/compare-tensors.js';
import { firstDivergingLayer } from '../../src/parity/first-diverging-layer.js';
import { layerInputs } from '../../src/parity/layer-inputs.js';
import type { TensorParity } from '../../src/parity/parity-result.js';
import { FIXTURE_BUNDLES } from '../support/paths.js';

async function config(bundle: string): Promise<KerasObject> {
  return JSON.parse(await readFile(path.join(FIXTURE_BUNDLES, bundle, 'model.keras.json'), 'utf8')) as KerasObject;
}

function layerResult(layer: string, passed: boolean): TensorParity {
  const comparison = compareTensors([passed ? 0 : 1], [1], [0], [1], { atol: 1e-6, rtol: 0 });
  return { kind: 'layer_output', label: `layer ${layer}`, layer, source: 'keras', referenceError: null, comparison };
}

describe('localizing the first diverging layer', () => {
  it('reads each layer\'s inputs from a Keras functional config, shared layers included', async () => {
    const inputs = layerInputs(await config('two_branch'));
    assert.deepEqual(inputs.get('shared_dense'), ['left']);
    assert.deepEqual(inputs.get('concat'), ['swish_left', 'shared_dense']);
    assert.deepEqual(inputs.get('left'), []);
  });

  it('credits a layer fed by operation nodes with the operations\' own inputs', async () => {
    const inputs = layerInputs(await config('zoo/topology/operations_on_symbolic_tensors'));
    // proj -> (ops) -> ...: no layer of this model is fed by another layer directly except through ops.
    assert.deepEqual(inputs.get('proj'), ['a']);
  });

  it('names the first failing layer whose inputs passed, not the downstream ones it poisoned', async () => {
    const order = ['left', 'shared_dense', 'right', 'swish_left', 'concat', 'temporal', 'skip', 'add', 'score'];
    const inputs = layerInputs(await config('two_branch'));
    const failing = new Set(['swish_left', 'concat', 'temporal', 'add', 'score']);
    const results = order.map((l) => layerResult(l, !failing.has(l)));
    assert.equal(firstDivergingLayer(results, order, inputs), 'swish_left');
    assert.equal(firstDivergingLayer(order.map((l) => layerResult(l, true)), order, inputs), null);
  });
});
