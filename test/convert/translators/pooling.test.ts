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
  });

  it("global pooling goes to tfjs-layers' classes where they compute it, to ours for keepdims, 1D channels_first and GlobalAveragePooling1D", () => {
    const target = (model: string, className: string) => translateLayer(zooLayer('pooling', model, className), 'm.json');
    for (const [model, className, tfjsClass] of [
      ['global_avg_pool2d', 'GlobalAveragePooling2D', 'GlobalAveragePooling2D'],
      ['global_max_pool2d_channels_first', 'GlobalMaxPooling2D', 'GlobalMaxPooling2D'],
      ['global_max_pool1d', 'GlobalMaxPooling1D', 'GlobalMaxPooling1D'],
    ] as const) {
      const { tfjs, conversion } = target(model, className);
      assert.equal(tfjs.class_name, tfjsClass);
      assert.ok(conversion.notes.some((n) => n.field === 'keepdims' && n.action === 'dropped'), `${model}: keepdims=False dropped with a note`);
    }
    for (const [model, className, ours, keepdims, dataFormat] of [
      ['global_avg_pool2d_keepdims', 'GlobalAveragePooling2D', 'KerasGlobalAveragePooling', true, 'channels_last'],
      ['global_max_pool2d_keepdims_channels_first', 'GlobalMaxPooling2D', 'KerasGlobalMaxPooling', true, 'channels_first'],
      ['global_max_pool1d_keepdims', 'GlobalMaxPooling1D', 'KerasGlobalMaxPooling', true, 'channels_last'],
      ['global_max_pool1d_channels_first', 'GlobalMaxPooling1D', 'KerasGlobalMaxPooling', false, 'channels_first'],
      // tfjs-layers' GlobalAveragePooling1D ignores a mask, which Keras's leaves out of the mean.
      ['global_avg_pool1d', 'GlobalAveragePooling1D', 'KerasGlobalAveragePooling', false, 'channels_last'],
      ['global_avg_pool3d_keepdims', 'GlobalAveragePooling3D', 'KerasGlobalAveragePooling', true, 'channels_last'],
    ] as const) {
      const { tfjs } = target(model, className);
      assert.deepEqual([tfjs.class_name, tfjs.config['keepdims'], tfjs.config['data_format']], [ours, keepdims, dataFormat], model);
    }
  });
});
