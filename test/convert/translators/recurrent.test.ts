import assert from 'node:assert/strict';
import { translateLayer } from '../../../src/convert/translate-layer.js';
import type { TfjsLayerConfig } from '../../../src/convert/translator-registry.js';
import { UnsupportedLayerError } from '../../../src/errors.js';
import type { KerasObject } from '../../../src/keras/keras-object.js';
import { assertEveryFieldAccountedFor, withConfig, zooLayer } from '../../support/zoo-layer.js';

function refused(layer: KerasObject, pattern: RegExp): void {
  assert.throws(() => translateLayer(layer, 'm.json'), (e: unknown) => e instanceof UnsupportedLayerError && pattern.test(e.message));
}

function nested(layer: KerasObject, field = 'layer'): KerasObject {
  return layer.config[field] as KerasObject;
}

describe('recurrent translators', () => {
  it('every field of every zoo recurrent layer (wrapped ones too) is translated or noted', () => {
    assertEveryFieldAccountedFor('recurrent');
    assertEveryFieldAccountedFor('embedding');
  });

  it('LSTM: the recurrent activation is always written (tfjs defaults to hardSigmoid), unroll and seed are noted', () => {
    const lstm = zooLayer('recurrent', 'lstm_unroll_no_bias', 'LSTM');
    const { tfjs, conversion } = translateLayer(lstm, 'm.json');
    assert.equal(tfjs.class_name, 'LSTM');
    assert.equal(tfjs.config['recurrent_activation'], 'sigmoid');
    assert.equal(tfjs.config['use_bias'], false);
    for (const field of ['unroll', 'seed', 'zero_output_for_mask']) {
      assert.ok(conversion.notes.some((n) => n.field === field && n.action === 'dropped'), field);
    }
    const { recurrent_activation: _omitted, ...older } = lstm.config;
    const { config } = translateLayer({ ...lstm, config: older }, 'm.json').tfjs;
    assert.equal(config['recurrent_activation'], 'sigmoid');
  });

  it("GRU: Keras 3's reset_after=True maps to keras-bridge's KerasGRU, reset_after=False to tfjs's GRU", () => {
    const gru = zooLayer('recurrent', 'gru_last', 'GRU');
    const after = translateLayer(gru, 'm.json');
    assert.equal(after.tfjs.class_name, 'KerasGRU');
    assert.equal(after.tfjs.config['reset_after'], true);
    assert.ok(after.conversion.notes.some((n) => n.field === 'class_name' && n.to === 'KerasGRU'));
    const before = translateLayer(zooLayer('recurrent', 'gru_reset_before', 'GRU'), 'm.json');
    assert.equal(before.tfjs.class_name, 'GRU');
    assert.equal('reset_after' in before.tfjs.config, false);
  });

  it('zero_output_for_mask maps to the keras-bridge class only where it changes the output (returned sequences)', () => {
    const sequences = zooLayer('embedding', 'mask_zero_lstm_zero_output', 'LSTM');
    assert.equal(translateLayer(sequences, 'm.json').tfjs.class_name, 'KerasLSTM');
    assert.equal(translateLayer(sequences, 'm.json').tfjs.config['zero_output_for_mask'], true);
    const last = withConfig(sequences, { return_sequences: false });
    const { tfjs, conversion } = translateLayer(last, 'm.json');
    assert.equal(tfjs.class_name, 'LSTM');
    assert.ok(conversion.notes.some((n) => n.field === 'zero_output_for_mask' && /returns its last output/.test(n.reason)));
  });

  it("dropout maps to keras-bridge's class (Keras's masks, replayed in training mode); without it, tfjs-layers' class", () => {
    for (const [model, className, ours] of [
      ['lstm_dropout_inference', 'LSTM', 'KerasLSTM'],
      ['gru_reset_before_dropout', 'GRU', 'KerasGRU'],
      ['simple_rnn_state', 'SimpleRNN', 'KerasSimpleRNN'],
    ] as const) {
      const { tfjs, conversion } = translateLayer(zooLayer('recurrent', model, className), 'm.json');
      assert.equal(tfjs.class_name, ours);
      assert.ok(conversion.notes.some((n) => n.field === 'class_name' && /dropout/.test(n.reason)), JSON.stringify(conversion.notes));
    }
    assert.equal(translateLayer(zooLayer('recurrent', 'lstm_last', 'LSTM'), 'm.json').tfjs.class_name, 'LSTM');
  });

  it('refuses stateful layers, naming file, layer and field', () => {
    refused(withConfig(zooLayer('recurrent', 'lstm_last', 'LSTM'), { stateful: true }), /m\.json: layer 'lstm', field 'stateful'/);
  });

  it("Bidirectional: the forward layer is translated like a top-level one; Keras's mirrored backward_layer is dropped with a note", () => {
    const bidirectional = zooLayer('recurrent', 'bidirectional_lstm_sequences_sum', 'Bidirectional');
    const { tfjs, conversion } = translateLayer(bidirectional, 'm.json');
    const forward = tfjs.config['layer'] as TfjsLayerConfig;
    // Keras's Bidirectional sets zero_output_for_mask on both directions when returning sequences.
    assert.equal(forward.class_name, 'KerasLSTM');
    assert.equal(forward.config['recurrent_activation'], 'sigmoid');
    assert.equal(tfjs.config['merge_mode'], 'sum');
    assert.equal('backward_layer' in tfjs.config, false);
    assert.ok(conversion.notes.some((n) => n.field === 'backward_layer' && n.action === 'dropped'));
    assert.ok(conversion.notes.some((n) => n.field === 'layer.unroll'), 'nested notes are prefixed with the field');
  });

  it('Bidirectional: a backward layer that does not mirror the forward one is refused', () => {
    const bidirectional = zooLayer('recurrent', 'bidirectional_lstm_concat', 'Bidirectional');
    const backward = nested(bidirectional, 'backward_layer');
    const wider = withConfig(bidirectional, { backward_layer: withConfig(backward, { units: 7 }) });
    refused(wider, /field 'backward_layer': the backward layer is configured differently/);
  });

  it('errors inside a wrapped layer name the wrapper too', () => {
    const bidirectional = zooLayer('recurrent', 'bidirectional_lstm_concat', 'Bidirectional');
    const stateful = withConfig(bidirectional, { layer: withConfig(nested(bidirectional), { stateful: true }) });
    refused(stateful, /m\.json, in layer 'bidirectional': layer 'forward_lstm', field 'stateful'/);
  });

  it('TimeDistributed wraps any translated layer', () => {
    const wrapper = zooLayer('recurrent', 'time_distributed_layernorm', 'TimeDistributed');
    const { tfjs } = translateLayer(wrapper, 'm.json');
    assert.equal((tfjs.config['layer'] as TfjsLayerConfig).class_name, 'LayerNormalization');
  });
});
