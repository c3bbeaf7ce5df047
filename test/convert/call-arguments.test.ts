import assert from 'node:assert/strict';
import tf from '#tfjs';
import { translateModel } from '../../src/convert/translate-model.js';
import { UnsupportedLayerError } from '../../src/errors.js';
import type { KerasObject } from '../../src/keras/keras-object.js';
import '../../src/layers/keras3/index.js';

// Tensors passed as call keyword arguments (fixtures/models/call_argument_models.py, whose parity
// test/e2e/call-arguments.test.ts checks): how the converter turns them into adapter inputs.

const tensor = (layer: string, shape: Array<number | null>, dtype = 'float32') => ({
  class_name: '__keras_tensor__',
  config: { shape, dtype, keras_history: [layer, 0, 0] },
});
const input = (name: string, shape: Array<number | null>, dtype = 'float32') => ({
  module: 'keras.layers',
  class_name: 'InputLayer',
  name,
  config: { name, batch_shape: shape, dtype },
  inbound_nodes: [],
});
const layer = (class_name: string, name: string, config: Record<string, unknown>, args: unknown[], kwargs: Record<string, unknown> = {}) => ({
  module: 'keras.layers',
  class_name,
  name,
  config: { name, trainable: true, dtype: 'float32', ...config },
  inbound_nodes: [{ args, kwargs }],
});
const model = (layers: unknown[], inputs: string[], output: string): KerasObject => ({
  module: 'keras',
  class_name: 'Functional',
  config: { name: 'm', layers, input_layers: inputs.map((n) => [n, 0, 0]), output_layers: [[output, 0, 0]] },
});
const lstm = { units: 4, return_sequences: false, return_state: false, go_backwards: false, stateful: false, unroll: false, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, unit_forget_bias: true, dropout: 0, recurrent_dropout: 0, zero_output_for_mask: false, seed: null };

describe('tensors passed as call keyword arguments', () => {
  it('a bool input as mask= and inputs as initial_state= become inputs of a KerasBridgeCallArguments adapter, after the positional ones', () => {
    const keras = model(
      [
        input('x', [null, 5, 3]),
        input('m', [null, 5], 'bool'),
        input('h', [null, 4]),
        input('c', [null, 4]),
        layer('LSTM', 'lstm', lstm, [tensor('x', [null, 5, 3])], { training: false, mask: tensor('m', [null, 5], 'bool'), initial_state: [tensor('h', [null, 4]), tensor('c', [null, 4])] }),
      ],
      ['x', 'm', 'h', 'c'],
      'lstm',
    );
    const { topology, report } = translateModel(keras, 'm.json');
    const adapter = (topology.config['layers'] as Array<{ class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[][][] }>).find((l) => l.config['name'] === 'lstm')!;
    assert.equal(adapter.class_name, 'KerasBridgeCallArguments');
    assert.equal((adapter.config['layer'] as { class_name: string }).class_name, 'LSTM');
    assert.equal(adapter.config['positional_arguments'], 1);
    assert.deepEqual(adapter.config['tensor_kwargs'], [
      { keras: 'mask', call: 'mask', count: 1, list: false },
      { keras: 'initial_state', call: 'initialState', count: 2, list: true },
    ]);
    assert.deepEqual(adapter.inbound_nodes[0]!.map((t) => t[0]), ['x', 'm', 'h', 'c']);
    // The bool mask input is kept: it is not a mask tfjs propagates.
    assert.ok((topology.config['layers'] as Array<{ config: { name: string } }>).some((l) => l.config.name === 'm'));
    const notes = report.layers.find((l) => l.name === 'lstm')!.notes;
    assert.ok(notes.some((n) => n.field === 'inbound_nodes[0].kwargs.initial_state' && n.to === 'initialState in call() kwargs'));

    // tfjs builds it, and the adapter runs the LSTM with the mask and the states.
    const built = tf.models.modelFromJSON(topology as never) as unknown as Promise<tf.LayersModel>;
    return built.then((m) => {
      const x = tf.randomNormal([2, 5, 3]);
      const h = tf.randomNormal([2, 4]);
      const c = tf.randomNormal([2, 4]);
      const all = m.predict([x, tf.ones([2, 5], 'bool'), h, c]) as tf.Tensor;
      const firstTwo = m.predict([x, tf.tensor2d([[1, 1, 0, 0, 0], [1, 1, 0, 0, 0]], [2, 5], 'bool'), h, c]) as tf.Tensor;
      const zeroState = m.predict([x, tf.ones([2, 5], 'bool'), tf.zeros([2, 4]), tf.zeros([2, 4])]) as tf.Tensor;
      assert.notDeepEqual(all.arraySync(), firstTwo.arraySync());
      assert.notDeepEqual(all.arraySync(), zeroState.arraySync());
    });
  });

  it("a mask computed by Keras for Embedding(mask_zero) is dropped as before: tfjs propagates it", () => {
    const keras = model(
      [
        input('ids', [null, 5], 'int32'),
        layer('Embedding', 'embed', { input_dim: 7, output_dim: 3, mask_zero: true, embeddings_initializer: 'uniform', embeddings_regularizer: null, embeddings_constraint: null, activity_regularizer: null, lora_rank: null }, [tensor('ids', [null, 5], 'int32')]),
        { module: 'keras.src.ops.numpy', class_name: 'NotEqual', name: 'not_equal', config: { name: 'not_equal' }, inbound_nodes: [{ args: [tensor('ids', [null, 5], 'int32'), 0], kwargs: {} }] },
        layer('LSTM', 'lstm', lstm, [tensor('embed', [null, 5, 3])], { mask: tensor('not_equal', [null, 5], 'bool') }),
      ],
      ['ids'],
      'lstm',
    );
    const { topology, report } = translateModel(keras, 'm.json');
    const layers = topology.config['layers'] as Array<{ class_name: string; config: { name: string } }>;
    assert.equal(layers.find((l) => l.config.name === 'lstm')!.class_name, 'LSTM');
    assert.ok(!layers.some((l) => l.config.name === 'not_equal'));
    assert.ok(report.layers.find((l) => l.name === 'lstm')!.notes.some((n) => n.field === 'inbound_nodes[0].kwargs.mask' && n.action === 'dropped'));
  });

  it('a tensor kwarg the tfjs class would ignore is refused, naming the layer, its class and the kwarg', () => {
    const keras = model(
      [
        input('q', [null, 5, 3]),
        input('vm', [null, 5], 'bool'),
        layer('MultiHeadAttention', 'mha', { num_heads: 2, key_dim: 2, value_dim: 2, dropout: 0, use_bias: true, output_shape: null, attention_axes: [1], kernel_initializer: 'glorot_uniform', bias_initializer: 'zeros', kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null, seed: null },
          [tensor('q', [null, 5, 3]), tensor('q', [null, 5, 3])], { value_mask: tensor('vm', [null, 5], 'bool') }),
      ],
      ['q', 'vm'],
      'mha',
    );
    assert.throws(
      () => translateModel(keras, 'm.json'),
      (e: Error) => e instanceof UnsupportedLayerError && /layer 'mha' \(MultiHeadAttention\) is called with the tensor keyword argument 'value_mask', which its tfjs implementation KerasMultiHeadAttention would ignore \(keras-bridge passes only attention_mask to it\)/.test(e.message),
    );
  });

  it('a shared layer whose calls pass different tensor kwargs is refused', () => {
    const lstmLayer = layer('LSTM', 'lstm', lstm, [tensor('x', [null, 5, 3])], { mask: tensor('m', [null, 5], 'bool') });
    lstmLayer.inbound_nodes.push({ args: [tensor('x', [null, 5, 3])], kwargs: {} });
    const keras = model([input('x', [null, 5, 3]), input('m', [null, 5], 'bool'), lstmLayer], ['x', 'm'], 'lstm');
    assert.throws(() => translateModel(keras, 'm.json'), /layer 'lstm', field 'inbound_nodes\[1\]': this call passes different tensor arguments/);
  });
});
