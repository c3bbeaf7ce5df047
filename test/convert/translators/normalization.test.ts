import assert from 'node:assert/strict';
import { translateLayer } from '../../../src/convert/translate-layer.js';
import { UnsupportedLayerError } from '../../../src/errors.js';
import { assertEveryFieldAccountedFor, withConfig, zooLayer } from '../../support/zoo-layer.js';

describe('normalization translators', () => {
  it('every field of every zoo normalization layer is translated or noted', () => assertEveryFieldAccountedFor('normalization'));

  it("BatchNormalization: tfjs-layers' class where its gradients are right, keras-bridge's elsewhere", () => {
    const classOf = (model: string) => translateLayer(zooLayer('normalization', model, 'BatchNormalization'), 'm.json').tfjs.class_name;
    assert.equal(classOf('batchnorm_features'), 'BatchNormalization');
    assert.equal(classOf('batchnorm_image'), 'BatchNormalization');
    assert.equal(classOf('batchnorm_axis_1'), 'KerasBatchNormalization');
    assert.equal(classOf('batchnorm_no_center'), 'KerasBatchNormalization');
    assert.equal(classOf('batchnorm_no_scale'), 'KerasBatchNormalization');
  });

  it('BatchNormalization: synchronized and renorm settings are noted; renorm itself is refused', () => {
    const bn = zooLayer('normalization', 'batchnorm_features', 'BatchNormalization');
    const { conversion } = translateLayer(bn, 'm.json');
    for (const field of ['synchronized', 'renorm', 'renorm_clipping', 'renorm_momentum']) {
      assert.ok(conversion.notes.some((n) => n.field === field && n.action === 'dropped'), field);
    }
    assert.throws(
      () => translateLayer(withConfig(bn, { renorm: true }), 'm.json'),
      (e: unknown) => e instanceof UnsupportedLayerError && /layer 'batch_normalization', field 'renorm'/.test(e.message),
    );
  });

  it('LayerNormalization: axis lists are kept; rms_scaling=True is refused', () => {
    const ln = zooLayer('normalization', 'layernorm_axes_1_2', 'LayerNormalization');
    const { tfjs } = translateLayer(ln, 'm.json');
    assert.equal(tfjs.class_name, 'LayerNormalization');
    assert.deepEqual(tfjs.config['axis'], [1, 2]);
    assert.throws(() => translateLayer(withConfig(ln, { rms_scaling: true }), 'm.json'), /field 'rms_scaling'/);
    const noScale = translateLayer(zooLayer('normalization', 'layernorm_no_scale', 'LayerNormalization'), 'm.json');
    assert.equal(noScale.tfjs.class_name, 'KerasLayerNormalization');
  });
});
