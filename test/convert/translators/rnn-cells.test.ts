import assert from 'node:assert/strict';
import { translateLayer } from '../../../src/convert/translate-layer.js';
import { UnsupportedLayerError } from '../../../src/errors.js';
import type { KerasObject } from '../../../src/keras/keras-object.js';
import { assertEveryFieldAccountedFor, withConfig, zooLayer } from '../../support/zoo-layer.js';

describe('RNN wrapper of a built-in cell', () => {
  it('every field of every zoo RNN wrapper and its cell is translated or noted', () => assertEveryFieldAccountedFor('rnn_cells'));

  it('translates as the layer it equals: RNN(LSTMCell) as LSTM, RNN(GRUCell) as GRU, RNN(SimpleRNNCell) as SimpleRNN', () => {
    const expected: Array<[string, string]> = [
      ['rnn_lstm_cell', 'LSTM'],
      ['rnn_gru_cell', 'KerasGRU'], // reset_after=True, Keras's default
      ['rnn_gru_cell_reset_before', 'GRU'],
      ['rnn_simple_rnn_cell', 'SimpleRNN'],
      ['rnn_lstm_cell_dropout', 'KerasLSTM'],
    ];
    for (const [model, tfjsClass] of expected) {
      const { tfjs, conversion } = translateLayer(zooLayer('rnn_cells', model, 'RNN'), 'm.json');
      assert.equal(tfjs.class_name, tfjsClass, model);
      assert.equal(tfjs.config['name'], 'rnn');
      assert.equal(tfjs.config['units'], 4);
      assert.ok(!('cell' in tfjs.config));
      assert.ok(conversion.notes.some((n) => n.field === 'class_name' && n.from === 'RNN'));
    }
  });

  it('refuses stacked and other cells, naming the field and what to do', () => {
    const layer = zooLayer('rnn_cells', 'rnn_lstm_cell', 'RNN');
    const cell = layer.config['cell'] as KerasObject;
    const refused = (changes: Record<string, unknown>, pattern: RegExp) =>
      assert.throws(
        () => translateLayer(withConfig(layer, changes), 'm.json'),
        (e: unknown) => e instanceof UnsupportedLayerError && /m\.json: layer 'rnn', field 'cell'/.test(e.message) && pattern.test(e.message),
      );
    refused({ cell: { ...cell, class_name: 'StackedRNNCells' } }, /wraps a StackedRNNCells.*one layer per cell/);
    refused({ cell: { ...cell, module: null, class_name: 'MyCell' } }, /wraps a MyCell/);
    refused({ cell: [cell, cell] }, /wraps a list of cells/);
    refused({ cell: { ...cell, config: { ...cell.config, trainable: false } } }, /trainable/);
  });
});
