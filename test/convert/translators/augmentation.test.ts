import assert from 'node:assert/strict';
import tf from '#tfjs';
import { translateLayer } from '../../../src/convert/translate-layer.js';
import { IDENTITY_AT_INFERENCE } from '../../../src/convert/translators/augmentation.js';
import { LayerFieldError, UnsupportedLayerError } from '../../../src/errors.js';
import { KerasInferenceIdentity } from '../../../src/layers/keras3/inference-identity.js';
import { assertEveryFieldAccountedFor, zooLayer } from '../../support/zoo-layer.js';

describe('augmentation translators', () => {
  it('every field of every zoo augmentation layer is translated or noted', () => assertEveryFieldAccountedFor('augmentation'));

  it('each random augmentation layer becomes KerasInferenceIdentity, keeping its Keras class and noting why', () => {
    const models: Record<string, string> = {
      AugMix: 'aug_mix',
      CutMix: 'cut_mix',
      MixUp: 'mix_up',
      RandAugment: 'rand_augment',
      RandomBrightness: 'random_brightness',
      RandomColorDegeneration: 'random_color_degeneration',
      RandomColorJitter: 'random_color_jitter',
      RandomContrast: 'random_contrast',
      RandomErasing: 'random_erasing',
      RandomFlip: 'random_flip',
      RandomGaussianBlur: 'random_gaussian_blur',
      RandomGrayscale: 'random_grayscale',
      RandomHue: 'random_hue',
      RandomInvert: 'random_invert',
      RandomPerspective: 'random_perspective',
      RandomPosterization: 'random_posterization',
      RandomRotation: 'random_rotation',
      RandomSaturation: 'random_saturation',
      RandomSharpness: 'random_sharpness',
      RandomShear: 'random_shear',
      RandomTranslation: 'random_translation',
      RandomZoom: 'random_zoom',
      Solarization: 'solarization',
    };
    assert.deepEqual(Object.keys(models), [...IDENTITY_AT_INFERENCE]);
    for (const [kerasClass, model] of Object.entries(models)) {
      const { tfjs, conversion } = translateLayer(zooLayer('augmentation', model, kerasClass), 'm.json');
      assert.equal(tfjs.class_name, 'KerasInferenceIdentity');
      assert.equal(tfjs.config['kerasClass'], kerasClass);
      assert.ok(conversion.notes.some((n) => n.field === 'class_name' && /identity at inference.*training mode is not compared/.test(n.reason)));
      assert.ok(conversion.notes.some((n) => n.action === 'dropped' && /training-mode random transformation/.test(n.reason)));
    }
  });

  it('RandomCrop is refused with the reason (uncropped at inference, cropped shape declared)', () => {
    const layer = { module: 'keras.layers', class_name: 'RandomCrop', config: { name: 'random_crop', height: 4, width: 4 } };
    assert.throws(
      () => translateLayer(layer as never, 'm.json'),
      (e: unknown) => e instanceof UnsupportedLayerError && /random_crop/.test(e.message) && /uncropped at inference/.test(e.message),
    );
  });

  it('AutoContrast, ContrastLimitedAdaptiveHistogramEqualization, Equalization and RandomElasticTransform are refused with the reason', () => {
    const reasons: Record<string, RegExp> = {
      AutoContrast: /stretches each image.*at inference too/,
      ContrastLimitedAdaptiveHistogramEqualization: /not the identity at inference/,
      Equalization: /part of a cycle/,
      RandomElasticTransform: /cannot record its training-mode draws/,
    };
    for (const [kerasClass, reason] of Object.entries(reasons)) {
      const layer = { module: 'keras.layers', class_name: kerasClass, config: { name: 'aug' } };
      assert.throws(
        () => translateLayer(layer as never, 'm.json'),
        (e: unknown) => e instanceof UnsupportedLayerError && reason.test(e.message),
      );
    }
  });

  it('KerasInferenceIdentity returns its input in inference and training, and round-trips its config', () => {
    const layer = new KerasInferenceIdentity({ kerasClass: 'RandomFlip', name: 'flip' });
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    for (const training of [false, true]) assert.deepEqual((layer.apply(x, { training }) as tf.Tensor).arraySync(), x.arraySync());
    const config = layer.getConfig();
    assert.equal(config['kerasClass'], 'RandomFlip');
    assert.equal((KerasInferenceIdentity.fromConfig(KerasInferenceIdentity, config) as KerasInferenceIdentity).kerasClass, 'RandomFlip');
    assert.throws(() => new KerasInferenceIdentity({ kerasClass: '', name: 'flip' }), (e: unknown) => e instanceof LayerFieldError && /layer 'flip' \(KerasInferenceIdentity\), field 'keras_class': .*needs kerasClass/.test(e.message));
  });
});
