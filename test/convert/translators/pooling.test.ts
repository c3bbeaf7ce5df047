import assert from 'node:assert/strict';
import { translateLayer } from '../../../src/convert/translate-layer.js';
import { UnsupportedLayerError } from '../../../src/errors.js';
import { assertEveryFieldAccountedFor, withConfig, zooLayer } from '../../support/zoo-layer.js';

describe('pooling translators', () => {
  it('every field of every zoo pooling layer is translated or noted', () => assertEveryFieldAccountedFor('pooling'));

  it('2D pooling keeps pool_size, strides, padding and data_format', () => {
    const { tfjs } = translateLayer(zooLayer('pooling', 'max_pool2d_same_strides_2x1', 'MaxPooling2D'), 'm.json');
    assert.deepEqual(tfjs.config, { ...tfjs.config, pool_size: [3, 2], strides: [2, 1], padding: 'same', data_format: 'channels_last' });
  });

  it('1D pooling drops data_format channels_last with a note, and refuses channels_first', () => {
    const pool = zooLayer('pooling', 'avg_pool1d_valid', 'AveragePooling1D');
    const { tfjs, conversion } = translateLayer(pool, 'm.json');
    assert.equal('data_format' in tfjs.config, false);
    assert.ok(conversion.notes.some((n) => n.field === 'data_format' && n.action === 'dropped'));
    assert.throws(
      () => translateLayer(withConfig(pool, { data_format: 'channels_first' }), 'm.json'),
      (e: unknown) => e instanceof UnsupportedLayerError && /m\.json: layer 'average_pooling1d', field 'data_format'/.test(e.message),
    );
    const global = zooLayer('pooling', 'global_max_pool1d', 'GlobalMaxPooling1D');
    assert.throws(() => translateLayer(withConfig(global, { data_format: 'channels_first' }), 'm.json'), /field 'data_format'/);
  });

  it('global pooling refuses keepdims=True, which tfjs-layers lacks', () => {
    for (const [model, className] of [['global_avg_pool2d', 'GlobalAveragePooling2D'], ['global_max_pool1d', 'GlobalMaxPooling1D']] as const) {
      const layer = zooLayer('pooling', model, className);
      assert.ok(translateLayer(layer, 'm.json').conversion.notes.some((n) => n.field === 'keepdims'));
      assert.throws(
        () => translateLayer(withConfig(layer, { keepdims: true }), 'm.json'),
        (e: unknown) => e instanceof UnsupportedLayerError && /field 'keepdims': value true is not supported: tfjs-layers global pooling layers have no keepdims/.test(e.message),
      );
    }
  });
});
