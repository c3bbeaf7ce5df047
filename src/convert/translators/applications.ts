import { baseLayerFields } from '../base-layer-fields.js';
import { copy, translateFields, type FieldRule } from '../field-rules.js';
import { registerModuleTranslator, type LayerTranslator } from '../translator-registry.js';
import '../../layers/keras3/index.js';

// Layers that keras.applications models define in their own modules (not keras.layers) and save
// by module and class name, e.g. {"module": "keras.src.applications.convnext", "class_name":
// "LayerScale", "registered_name": "LayerScale"}. They are keyed by that module, so that a user's
// own class of the same name (module '__main__', 'my_project.layers', …) stays a custom layer.

function to(tfjsClass: string, rules: Record<string, FieldRule>): LayerTranslator {
  return (layer, context) => ({ class_name: tfjsClass, config: translateFields(layer.config, { ...baseLayerFields, ...rules }, context) });
}

// ConvNeXt's blocks (keras/src/applications/convnext.py): x * gamma.
registerModuleTranslator(
  [{ module: 'keras.src.applications.convnext', className: 'LayerScale' }],
  to('KerasLayerScale', { init_values: copy, projection_dim: copy }),
);

// InceptionResNetV2's residual blocks (keras/src/applications/inception_resnet_v2.py): inputs[0] + inputs[1] * scale.
registerModuleTranslator(
  [{ module: 'keras.src.applications.inception_resnet_v2', className: 'CustomScaleLayer' }],
  to('KerasCustomScaleLayer', { scale: copy }),
);
