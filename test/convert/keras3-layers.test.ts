import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UnsupportedLayerError } from '../../src/errors.js';
import type { KerasObject } from '../../src/keras/keras-object.js';
import { translateLayer } from '../../src/convert/translate-layer.js';
import { FIXTURE_BUNDLES } from '../support/paths.js';

// Translators of the Keras 3 layers tfjs-layers lacks (in their family files, src/convert/translators/*.ts), on configs Keras wrote for the zoo
// (fixtures/zoo/keras3_layers.py). Numerical parity is the layer zoo's job.
const ZOO = path.join(FIXTURE_BUNDLES, 'zoo', 'keras3_layers');

function zooLayer(model: string, className: string): KerasObject {
  const config = JSON.parse(readFileSync(path.join(ZOO, model, 'model.keras.json'), 'utf8')) as KerasObject;
  const layer = (config.config['layers'] as KerasObject[]).find((l) => l.class_name === className);
  assert.ok(layer, `${model} has no ${className}`);
  return layer;
}

describe('translating Keras 3 layers that tfjs-layers lacks', () => {
  it('every Keras field of every zoo layer is translated or noted', () => {
    for (const model of readdirSync(ZOO)) {
      const config = JSON.parse(readFileSync(path.join(ZOO, model, 'model.keras.json'), 'utf8')) as KerasObject;
      for (const layer of config.config['layers'] as KerasObject[]) {
        const { tfjs, conversion } = translateLayer(layer, model);
        const noted = new Set(conversion.notes.map((n) => n.field));
        for (const field of Object.keys(layer.config)) {
          assert.ok(field in tfjs.config || noted.has(field), `${model}: ${layer.class_name}.${field} vanished without a note`);
        }
      }
    }
  });

  it('maps to a tfjs-layers class when it computes the same, to ours otherwise', () => {
    assert.equal(translateLayer(zooLayer('relu_max_value', 'ReLU'), 'm').tfjs.class_name, 'ReLU');
    assert.equal(translateLayer(zooLayer('relu_threshold', 'ReLU'), 'm').tfjs.class_name, 'KerasReLU');
    assert.equal(translateLayer(zooLayer('elu_default', 'ELU'), 'm').tfjs.class_name, 'ELU');
    assert.equal(translateLayer(zooLayer('elu_alpha', 'ELU'), 'm').tfjs.class_name, 'KerasELU');
    const leaky = translateLayer(zooLayer('leaky_relu_slope', 'LeakyReLU'), 'm').tfjs;
    assert.deepEqual([leaky.class_name, leaky.config['alpha']], ['LeakyReLU', 0.05]);
  });

  it("a 1D layer's pair becomes the one-axis list of the N-D layer, with a note", () => {
    const { tfjs, conversion } = translateLayer(zooLayer('cropping1d', 'Cropping1D'), 'm');
    assert.deepEqual([tfjs.class_name, tfjs.config['cropping']], ['KerasCropping', [[1, 2]]]);
    assert.ok(conversion.notes.some((n) => n.field === 'cropping' && n.action === 'changed'));
  });

  it("attention's use_causal_mask moves from the call into the config; disagreeing calls are refused", () => {
    const mha = zooLayer('mha_causal', 'MultiHeadAttention');
    const { tfjs, conversion } = translateLayer(mha, 'm');
    assert.equal(tfjs.config['use_causal_mask'], true);
    assert.ok(conversion.notes.some((n) => n.field === 'inbound_nodes[*].kwargs.use_causal_mask'));
    const nodes = mha['inbound_nodes'] as Array<{ args: unknown[]; kwargs: Record<string, unknown> }>;
    const shared = { ...mha, inbound_nodes: [...nodes, { ...nodes[0]!, kwargs: {} }] };
    assert.throws(() => translateLayer(shared, 'm'), (e: unknown) => e instanceof UnsupportedLayerError && /different use_causal_mask values/.test(e.message));
    const scores = { ...mha, inbound_nodes: [{ ...nodes[0]!, kwargs: { return_attention_scores: true } }] };
    assert.throws(() => translateLayer(scores, 'm'), /return_attention_scores=True is not supported/);
  });
});
