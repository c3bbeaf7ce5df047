import assert from 'node:assert/strict';
import { translateLayer } from '../../../src/convert/translate-layer.js';
import { UnsupportedLayerError } from '../../../src/errors.js';
import { assertEveryFieldAccountedFor, withConfig, zooLayer } from '../../support/zoo-layer.js';

describe('embedding, masking and regularization translators', () => {
  it('every field of every zoo regularization layer is translated or noted', () => assertEveryFieldAccountedFor('regularization'));

  it('Embedding keeps input_dim, output_dim and mask_zero', () => {
    const { tfjs } = translateLayer(zooLayer('embedding', 'mask_zero_lstm', 'Embedding'), 'm.json');
    assert.deepEqual([tfjs.config['input_dim'], tfjs.config['output_dim'], tfjs.config['mask_zero']], [10, 3, true]);
  });

  it('Embedding with LoRA adapters or quantization is refused', () => {
    const embedding = zooLayer('embedding', 'embedding', 'Embedding');
    for (const [field, value] of [['lora_rank', 4], ['quantization_config', { mode: 'int8' }]] as const) {
      assert.throws(
        () => translateLayer(withConfig(embedding, { [field]: value }), 'm.json'),
        (e: unknown) => e instanceof UnsupportedLayerError && new RegExp(`field '${field}'`).test(e.message),
      );
    }
  });

  it('Masking keeps mask_value', () => {
    const { tfjs } = translateLayer(zooLayer('embedding', 'masking_lstm', 'Masking'), 'm.json');
    assert.equal(tfjs.class_name, 'Masking');
    assert.equal(tfjs.config['mask_value'], 0);
  });

  it('ActivityRegularization becomes an identity (linear Activation), its penalties noted as dropped', () => {
    const { tfjs, conversion } = translateLayer(zooLayer('regularization', 'activity_regularization', 'ActivityRegularization'), 'm.json');
    assert.equal(tfjs.class_name, 'Activation');
    assert.equal(tfjs.config['activation'], 'linear');
    for (const field of ['l1', 'l2']) assert.ok(conversion.notes.some((n) => n.field === field && n.action === 'dropped'), field);
  });

  it('noise layers drop their training-only seed with a note', () => {
    const { tfjs, conversion } = translateLayer(zooLayer('regularization', 'gaussian_noise', 'GaussianNoise'), 'm.json');
    assert.equal(tfjs.config['stddev'], 0.5);
    assert.ok(conversion.notes.some((n) => n.field === 'seed' && n.action === 'dropped'));
  });
});
