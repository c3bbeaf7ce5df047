import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import tf from '#tfjs';
import { formatConversionReport } from '../../src/report/conversion-table.js';
import { UnsupportedLayerError } from '../../src/errors.js';
import type { KerasObject } from '../../src/keras/keras-object.js';
import '../../src/layers/seed/index.js';
import { translateLayer } from '../../src/convert/translate-layer.js';
import { translateModel } from '../../src/convert/translate-model.js';
import { fixtureBundle } from '../support/paths.js';

/** Model configs exactly as Keras 3 serialized them (fixtures/bundles, made by scripts/make-fixtures.sh). */
async function kerasConfig(bundle: string): Promise<KerasObject> {
  return JSON.parse(await readFile(path.join(fixtureBundle(bundle), 'model.keras.json'), 'utf8')) as KerasObject;
}

function layerOf(model: KerasObject, className: string): KerasObject {
  return (model.config['layers'] as KerasObject[]).find((l) => l.class_name === className)!;
}

describe('translating Keras 3 configs to tfjs-layers', () => {
  it('Sequential: InputLayer batch_shape becomes batch_input_shape, sparse/ragged/optional are dropped with notes', async () => {
    const { topology, report } = translateModel(await kerasConfig('swish'), 'swish.json');
    assert.equal(topology.class_name, 'Sequential');
    const layers = topology.config['layers'] as Array<{ class_name: string; config: Record<string, unknown> }>;
    const input = layers[0]!;
    assert.equal(input.class_name, 'InputLayer');
    assert.deepEqual(input.config['batch_input_shape'], [null, 10]);
    assert.equal('batch_shape' in input.config, false);
    const notes = report.layers[0]!.notes;
    for (const field of ['sparse', 'ragged', 'optional']) {
      assert.ok(notes.some((n) => n.field === field && n.action === 'dropped'), field);
    }
  });

  it('Dense: the dtype policy object becomes a string, initializers lose module/registered_name and null keys', async () => {
    const dense = layerOf(await kerasConfig('swish'), 'Dense');
    const { tfjs, conversion } = translateLayer(dense, 'swish.json');
    assert.equal(tfjs.config['dtype'], 'float32');
    assert.deepEqual(tfjs.config['kernel_initializer'], { class_name: 'GlorotUniform', config: {} });
    assert.deepEqual(tfjs.config['bias_initializer'], { class_name: 'Zeros', config: {} });
    assert.equal(tfjs.config['activation'], 'relu');
    assert.equal(tfjs.config['units'], 64);
    assert.ok(conversion.notes.some((n) => n.field === 'quantization_config' && n.action === 'dropped'));
    assert.ok(conversion.notes.some((n) => n.field === 'dtype' && n.action === 'changed'));
  });

  it('every Keras field is either translated or reported: nothing is dropped silently', async () => {
    const dense = layerOf(await kerasConfig('swish'), 'Dense');
    const { tfjs, conversion } = translateLayer(dense, 'swish.json');
    const noted = new Set(conversion.notes.map((n) => n.field));
    for (const field of Object.keys(dense.config)) {
      assert.ok(field in tfjs.config || noted.has(field), `field '${field}' vanished without a note`);
    }
  });

  it('an unknown Dense field is reported as dropped', async () => {
    const dense = layerOf(await kerasConfig('swish'), 'Dense');
    const { conversion } = translateLayer({ ...dense, config: { ...dense.config, future_option: 3 } }, 'x.json');
    assert.ok(conversion.notes.some((n) => n.field === 'future_option' && n.action === 'dropped'));
  });

  it('mixed precision is refused with the file, layer and field', async () => {
    const dense = layerOf(await kerasConfig('swish'), 'Dense');
    const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'mixed_float16' }, registered_name: null };
    assert.throws(
      () => translateLayer({ ...dense, config: { ...dense.config, dtype: policy } }, 'm.json'),
      (e: unknown) => e instanceof UnsupportedLayerError && /m\.json: layer 'dense', field 'dtype': dtype policy "mixed_float16"/.test(e.message),
    );
  });

  it('an activation is never mapped to a tfjs namesake that computes something else', async () => {
    const dense = layerOf(await kerasConfig('swish'), 'Dense');
    assert.throws(() => translateLayer({ ...dense, config: { ...dense.config, activation: 'not_a_keras_activation' } }, 'm.json'), /activation "not_a_keras_activation" has no exact tfjs equivalent/);
    // Keras 3's hard_sigmoid is relu6(x + 3) / 6; tfjs's hardSigmoid is clip(0.2x + 0.5, 0, 1).
    try {
      const hard = translateLayer({ ...dense, config: { ...dense.config, activation: 'hard_sigmoid' } }, 'm.json');
      assert.doesNotMatch(String(hard.tfjs.config["activation"]), /^hard_?sigmoid$/i);
    } catch (e) {
      assert.match((e as Error).message, /activation "hard_sigmoid"/);
    }
    const silu = translateLayer({ ...dense, config: { ...dense.config, activation: 'silu' } }, 'm.json');
    assert.equal(silu.tfjs.config['activation'], 'swish');
  });

  it('a Keras layer class with no translator is named', async () => {
    const dense = layerOf(await kerasConfig('swish'), 'Dense');
    assert.throws(() => translateLayer({ ...dense, class_name: 'Conv3DTransposeLike' }, 'm.json'), /m\.json: layer 'dense': Keras layer class 'Conv3DTransposeLike': not supported by the converter yet/);
  });

  it('functional: Keras-tensor inbound nodes become [layer, node, tensor, kwargs] lists, shared layers keep both nodes', async () => {
    const { topology } = translateModel(await kerasConfig('two_branch'), 'two_branch.json');
    assert.equal(topology.class_name, 'Model');
    const layers = topology.config['layers'] as Array<{ name: string; inbound_nodes: unknown[] }>;
    const byName = (name: string) => layers.find((l) => l.name === name)!;
    assert.deepEqual(byName('shared_dense').inbound_nodes, [[['left', 0, 0, {}]], [['right', 0, 0, {}]]]);
    assert.deepEqual(byName('concat').inbound_nodes, [[['swish_left', 0, 0, {}], ['shared_dense', 1, 0, {}]]]);
    assert.deepEqual(topology.config['input_layers'], [['left', 0, 0], ['right', 0, 0]]);
    assert.deepEqual(topology.config['output_layers'], [['score', 0, 0], ['add', 0, 0]]);
  });

  it('a subclassed model (no graph in its config) is refused with the reason', () => {
    assert.throws(() => translateModel({ class_name: 'MyModel', config: {} }, 'm.json'), /not a Sequential or functional model.*export it with 'keras-bridge export'/);
    // As a .keras file holds one: a class from outside Keras with the compile_config only models get.
    const saved = { module: 'mylib.models', class_name: 'MyModel', registered_name: 'mylib>MyModel', config: { name: 'm', depth: 2 }, compile_config: {} };
    assert.throws(
      () => translateModel(saved, 'm.json'),
      /m\.json: the model is a keras\.Model subclass \(mylib>MyModel, Python module 'mylib\.models'\); its config holds only its constructor arguments \(name, depth\).*--module mylib\.models.*call it as a layer inside a functional model/s,
    );
  });

  it('a recorded subclassed graph (subclassed_model beside a Functional config) converts as functional; the report names the class', () => {
    const input = { class_name: 'InputLayer', module: 'keras.layers', name: 'x', config: { name: 'x', batch_shape: [null, 3], dtype: 'float32' }, inbound_nodes: [] };
    const graph = { class_name: 'Functional', module: 'keras.src.models.functional', config: { name: 'inner', layers: [input], input_layers: [['x', 0, 0]], output_layers: [['x', 0, 0]] } };
    const recorded = { ...graph, subclassed_model: { class_name: 'MyModel', registered_name: 'mylib>MyModel', module: 'mylib.models', config: { depth: 2 } } };
    assert.deepEqual(translateModel(recorded, 'm.json').report.subclassedModel, { className: 'MyModel', registeredName: 'mylib>MyModel', module: 'mylib.models' });
    assert.equal(translateModel(graph, 'm.json').report.subclassedModel, undefined);
  });

  it("a node's training=False kwarg: the note says tfjs applies the model call's flag instead, and the converted model does", async () => {
    // Keras 3.15 recorded Dropout()(x, training=False) in the node (zoo: mha_dropout_after_dropout).
    const config = JSON.parse(await readFile(path.join(fixtureBundle('zoo/keras3_layers/mha_dropout_after_dropout'), 'model.keras.json'), 'utf8')) as KerasObject;
    const { topology, report } = translateModel(config, 'm.json');
    const text = formatConversionReport({ ...report, weights: { count: 0, bytes: 0, shards: 1 }, constraintWarnings: [] });
    assert.match(
      text,
      /dropout: Dropout → tfjs Dropout\n(?: {6}.*\n)*? {6}inbound_nodes\[0\]\.kwargs\.training = false: dropped \(not applied: tfjs-layers gives every layer the model call's training flag \(inference in predict\(\), training in fit\(\)\) and never reads a node's; Keras 3 also lets the call's flag override the recorded one/,
    );
    assert.doesNotMatch(text, /passed to tfjs with each inbound tensor/);
    const dropout = (topology.config['layers'] as { name: string; inbound_nodes: unknown[][][] }[]).find((l) => l.name === 'dropout')!;
    assert.deepEqual(dropout.inbound_nodes[0]![0]![3], {});
    // What the note says tfjs does, even with a node that does carry training=false: predict() is inference, fit()'s flag wins.
    const input = tf.input({ shape: [8] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dropout({ rate: 0.5 }).apply(input, { training: false }) as tf.SymbolicTensor });
    const x = tf.ones([4, 8]);
    assert.equal(tf.equal(model.predict(x) as tf.Tensor, x).all().dataSync()[0], 1);
    assert.equal(tf.equal(model.apply(x, { training: true }) as tf.Tensor, 0).any().dataSync()[0], 1);
    model.dispose();
  });
});
