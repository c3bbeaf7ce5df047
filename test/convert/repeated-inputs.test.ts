import assert from 'node:assert/strict';
import tf from '#tfjs';
import { translateModel } from '../../src/convert/translate-model.js';
import type { KerasObject } from '../../src/keras/keras-object.js';
import '../../src/layers/keras3/index.js';

// A layer reading one tensor in several slots gets a KerasBridgeInputCopy in every slot after the
// first (src/convert/repeated-inputs.ts): tfjs-layers 4.22's executor would otherwise dispose the
// tensor while another layer still needs it. Here: y = d * d + d, with d = Dense(x), and a shared
// Multiply also called on (d, d) twice over, so that each call gets its own copy node.
const tensor = (layer: string, node = 0) => ({ class_name: '__keras_tensor__', config: { shape: [null, 3], dtype: 'float32', keras_history: [layer, node, 0] } });
const entry = (class_name: string, name: string, config: Record<string, unknown>, nodes: unknown[][]) => ({
  module: 'keras.layers',
  class_name,
  name,
  config: { name, trainable: true, dtype: 'float32', ...config },
  inbound_nodes: nodes.map((args) => ({ args, kwargs: {} })),
});
const KERAS: KerasObject = {
  module: 'keras',
  class_name: 'Functional',
  config: {
    name: 'm',
    layers: [
      { module: 'keras.layers', class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_shape: [null, 3], dtype: 'float32' }, inbound_nodes: [] },
      entry('Dense', 'd', { units: 3, activation: 'linear', use_bias: true }, [[tensor('x')]]),
      // Called twice: square(d), then square(square(d)).
      entry('Multiply', 'square', {}, [[[tensor('d'), tensor('d')]], [[tensor('square'), tensor('square')]]]),
      entry('Add', 'sum', {}, [[[tensor('square', 1), tensor('d')]]]),
    ],
    input_layers: [['x', 0, 0]],
    output_layers: [['sum', 0, 0]],
  },
};

type Layers = Array<{ class_name: string; name: string; inbound_nodes: Array<Array<[string, number, number, unknown]>> }>;

describe('a layer reading one tensor in several slots', () => {
  it('reads a copy in every slot after the first, each copy called once, noted in the report', () => {
    const { topology, report } = translateModel(KERAS, 'm.json');
    const layers = topology.config['layers'] as Layers;
    assert.deepEqual(layers.map((l) => l.name), ['x', 'd', 'square/repeated_input_0', 'square/repeated_input_1', 'square', 'sum']);
    // Each copy is called once: tfjs's execute() refuses a layer called more than once.
    assert.deepEqual(layers.slice(2, 4).map((l) => [l.class_name, l.inbound_nodes.map((n) => n.map((t) => t.slice(0, 3)))]), [
      ['KerasBridgeInputCopy', [[['d', 0, 0]]]],
      ['KerasBridgeInputCopy', [[['square', 0, 0]]]],
    ]);
    assert.deepEqual(layers[4]!.inbound_nodes.map((n) => n.map((t) => t.slice(0, 3))), [
      [['d', 0, 0], ['square/repeated_input_0', 0, 0]],
      [['square', 0, 0], ['square/repeated_input_1', 0, 0]],
    ]);
    // Slots reading different tensors are left alone.
    assert.deepEqual(layers[5]!.inbound_nodes[0]!.map((t) => t.slice(0, 3)), [['square', 1, 0], ['d', 0, 0]]);
    const notes = report.layers.find((l) => l.name === 'square')!.notes.map((n) => n.field);
    assert.deepEqual(notes, ['inbound_nodes[0][1]', 'inbound_nodes[1][1]']);
  });

  // (execute() refuses this model for its shared Multiply, a tfjs limit; test/e2e/repeated-inputs.test.ts runs it.)
  it("computes d⁴ + d with predict() and apply(); the same graph without the copies fails in tfjs's executor", async () => {
    const { topology } = translateModel(KERAS, 'm.json');
    const model = (await tf.models.modelFromJSON(topology as never)) as tf.LayersModel;
    const x = tf.tensor2d([[1, -2, 0.5], [3, 0.25, -1]]);
    const d = model.getLayer('d').apply(x) as tf.Tensor;
    const expected = await tf.add(tf.pow(d, 4), d).array();
    for (const y of [model.predict(x), model.apply(x)] as tf.Tensor[]) {
      const got = (await y.array()) as number[][];
      got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - (expected as number[][])[i]![j]!) <= 1e-5 * (1 + Math.abs(v)), `${v} vs ${(expected as number[][])[i]![j]}`)));
    }

    // Undo the copies: tfjs-layers 4.22 disposes d after `square` reads it twice, before `sum` reads it.
    const layers = (topology.config['layers'] as Layers).filter((l) => l.class_name !== 'KerasBridgeInputCopy');
    const original: Record<string, string> = { 'square/repeated_input_0': 'd', 'square/repeated_input_1': 'square' };
    const unfixed = layers.map((l) => ({ ...l, inbound_nodes: l.inbound_nodes.map((n) => n.map((t) => (original[t[0]] ? [original[t[0]], 0, 0, t[3]] : t))) }));
    const broken = (await tf.models.modelFromJSON({ ...topology, config: { ...topology.config, layers: unfixed } } as never)) as tf.LayersModel;
    assert.throws(() => broken.predict(x), /Cannot read properties of undefined \(reading 'backend'\)/);
  });
});
