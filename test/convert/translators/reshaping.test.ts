import assert from 'node:assert/strict';
import { translateLayer } from '../../../src/convert/translate-layer.js';
import { UnsupportedLayerError } from '../../../src/errors.js';
import { assertEveryFieldAccountedFor, withConfig, zooLayer } from '../../support/zoo-layer.js';

describe('reshaping translators', () => {
  it('every field of every zoo reshaping layer is translated or noted', () => assertEveryFieldAccountedFor('reshaping'));

  it('Reshape keeps an inferred (-1) dimension, which tfjs-layers also infers', () => {
    const { tfjs } = translateLayer(zooLayer('reshaping', 'reshape_inferred_dim', 'Reshape'), 'm.json');
    assert.deepEqual(tfjs.config['target_shape'], [-1, 2]);
  });

  it('UpSampling2D takes nearest and refuses bilinear (a different sampling grid in tfjs) and the methods tfjs lacks', () => {
    const layer = zooLayer('reshaping', 'up_sampling2d_nearest', 'UpSampling2D');
    assert.equal(translateLayer(layer, 'm.json').tfjs.config['interpolation'], 'nearest');
    const refusal = (interpolation: string, pattern: RegExp) =>
      assert.throws(
        () => translateLayer(withConfig(layer, { interpolation }), 'm.json'),
        (e: unknown) => e instanceof UnsupportedLayerError && /m\.json: layer 'up_sampling2d', field 'interpolation'/.test(e.message) && pattern.test(e.message),
      );
    refusal('bilinear', /half-pixel centers/);
    refusal('bicubic', /only 'nearest' and 'bilinear'/);
  });
});
