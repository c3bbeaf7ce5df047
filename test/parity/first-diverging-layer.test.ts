import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KerasObject } from '../../src/keras/keras-object.js';
import { compareTensors } from '../../src/parity/compare-tensors.js';
import { firstDivergingLayer, firstDivergingLayerBackward } from '../../src/parity/first-diverging-layer.js';
import { layerInputs } from '../../src/parity/layer-inputs.js';
import type { TensorParity } from '../../src/parity/parity-result.js';
import { FIXTURE_BUNDLES } from '../support/paths.js';

async function config(bundle: string): Promise<KerasObject> {
  return JSON.parse(await readFile(path.join(FIXTURE_BUNDLES, bundle, 'model.keras.json'), 'utf8')) as KerasObject;
}

function layerResult(layer: string, passed: boolean, kind: TensorParity['kind'] = 'layer_output'): TensorParity {
  const comparison = compareTensors([passed ? 0 : 1], [1], [0], [1], { atol: 1e-6, rtol: 0 });
  return { kind, label: `${kind} ${layer}`, layer, source: 'keras', referenceError: null, float64Error: null, kernelVariantError: null, comparison };
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

  it('in training mode, names a layer whose state after the pass is wrong while its output is right (a BatchNormalization momentum)', async () => {
    const order = ['left', 'shared_dense', 'right', 'swish_left', 'concat', 'temporal', 'skip', 'add', 'score'];
    const inputs = layerInputs(await config('two_branch'));
    // shared_dense's moving statistic is wrong; every layer output is right.
    const tensors = [...order.map((l) => layerResult(l, true)), layerResult('shared_dense', false, 'weight_after_pass')];
    assert.equal(firstDivergingLayer(tensors, order, inputs), 'shared_dense');
    // A state that fails after a layer whose output already diverged is not where the runtimes part.
    const downstream = [...order.map((l) => layerResult(l, !['swish_left', 'concat', 'temporal', 'add', 'score'].includes(l))), layerResult('temporal', false, 'weight_after_pass')];
    assert.equal(firstDivergingLayer(downstream, order, inputs), 'swish_left');
  });

  describe('in the backward pass', () => {
    const order = ['left', 'shared_dense', 'right', 'swish_left', 'concat', 'temporal', 'skip', 'add', 'score'];
    const forward = order.map((l) => layerResult(l, true));
    /** Output gradients of every layer but the inputs, failing for `failing`; weight gradients failing for `weightsFailing`. */
    function backward(failing: string[], weightsFailing: string[] = [], inputsFailing: string[] = []): TensorParity[] {
      return [
        ...forward,
        ...order.filter((l) => l !== 'left' && l !== 'right').map((l) => layerResult(l, !failing.includes(l), 'grad_layer_output')),
        ...['shared_dense', 'temporal', 'score'].map((l) => layerResult(l, !weightsFailing.includes(l), 'grad_weight')),
        ...['left', 'right'].map((l) => layerResult(l, !inputsFailing.includes(l), 'grad_input')),
      ];
    }

    it('names the layer whose output gradient is right and whose input gradient is wrong, walking from the outputs', async () => {
      const inputs = layerInputs(await config('two_branch'));
      // temporal's backward pass is wrong: concat and everything feeding it get wrong gradients.
      assert.equal(firstDivergingLayerBackward(backward(['concat', 'swish_left', 'shared_dense'], ['shared_dense'], ['left']), order, inputs), 'temporal');
      assert.equal(firstDivergingLayerBackward(backward([]), order, inputs), null);
    });

    it('names a layer whose weight gradients alone are wrong', async () => {
      assert.equal(firstDivergingLayerBackward(backward([], ['temporal']), order, layerInputs(await config('two_branch'))), 'temporal');
    });

    it('ends at the model inputs: a wrong gradient into an input is the backward pass of the layer reading it', async () => {
      assert.equal(firstDivergingLayerBackward(backward([], [], ['right']), order, layerInputs(await config('two_branch'))), 'skip');
    });

    it('names nothing when the forward pass already diverges, or without output-gradient goldens', async () => {
      const inputs = layerInputs(await config('two_branch'));
      const wrongForward = backward(['concat']).map((t) => (t.kind === 'layer_output' && t.layer === 'add' ? layerResult('add', false) : t));
      assert.equal(firstDivergingLayerBackward(wrongForward, order, inputs), null);
      assert.equal(firstDivergingLayerBackward([...forward, layerResult('temporal', false, 'grad_weight')], order, inputs), null);
    });
  });
});
