import { baseLayerFields } from '../base-layer-fields.js';
import { translateFields, type FieldRule } from '../field-rules.js';
import '../../layers/keras3/inference-identity.js';
import { registerTranslator } from '../translator-registry.js';

// Keras 3's image augmentation layers whose inference call returns the image unchanged
// (Keras 3.15.1: transform_images(..., training=False) returns the images, at most cast to the
// compute dtype, float32 here; each checked by running it with training=False on random batches
// and comparing output to input exactly). They convert to keras-bridge's KerasInferenceIdentity,
// which keeps the Keras class name. Solarization is among them: it transforms only in training
// mode. RandomCrop, AutoContrast and ContrastLimitedAdaptiveHistogramEqualization are not, and
// RandomElasticTransform and Equalization have no zoo model: see unsupported-layers.ts.
export const IDENTITY_AT_INFERENCE = [
  'AugMix',
  'CutMix',
  'MixUp',
  'RandAugment',
  'RandomBrightness',
  'RandomColorDegeneration',
  'RandomColorJitter',
  'RandomContrast',
  'RandomErasing',
  'RandomFlip',
  'RandomGaussianBlur',
  'RandomGrayscale',
  'RandomHue',
  'RandomInvert',
  'RandomPerspective',
  'RandomPosterization',
  'RandomRotation',
  'RandomSaturation',
  'RandomSharpness',
  'RandomShear',
  'RandomTranslation',
  'RandomZoom',
  'Solarization',
] as const;

/** Every field beyond the base layer's parameterizes only the training-mode transformation. */
const trainingOnly: FieldRule = (value, context, field) => {
  context.dropped(field, 'parameter of the training-mode random transformation, which is not converted (identity at inference)', value);
  return undefined;
};

registerTranslator(IDENTITY_AT_INFERENCE, (layer, context) => {
  const rules: Record<string, FieldRule> = Object.fromEntries(Object.keys(layer.config).map((field) => [field, baseLayerFields[field] ?? trainingOnly]));
  context.changed(
    'class_name',
    layer.class_name,
    'KerasInferenceIdentity',
    'data augmentation: the identity at inference; its training-mode random transformation is not converted, so training mode is not compared',
  );
  return { class_name: 'KerasInferenceIdentity', config: { ...translateFields(layer.config, rules, context), kerasClass: layer.class_name } };
});
