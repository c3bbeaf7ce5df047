import { baseLayerFields } from '../base-layer-fields.js';
import { translateFields, type FieldRule } from '../field-rules.js';
import '../../layers/keras3/inference-identity.js';
import { registerTranslator } from '../translator-registry.js';

// Keras 3's random image augmentation layers whose inference call returns the image unchanged
// (Keras 3.15.1: transform_images(..., training=False) only casts to the compute dtype, float32
// here). They convert to keras-bridge's KerasInferenceIdentity, which keeps the Keras class name.
// RandomCrop is not one of them: see unsupported-layers.ts.
export const IDENTITY_AT_INFERENCE = [
  'RandomBrightness',
  'RandomContrast',
  'RandomFlip',
  'RandomRotation',
  'RandomTranslation',
  'RandomZoom',
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
