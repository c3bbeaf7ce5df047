import { UnsupportedLayerError } from '../../errors.js';
import { baseLayerFields } from '../base-layer-fields.js';
import { copy, translateFields, type FieldRule } from '../field-rules.js';
import { registerTranslator } from '../translator-registry.js';
import { oneAxis, to } from '../class-translator.js';
import '../../layers/keras3/cropping.js';
import '../../layers/keras3/zero-padding.js';
import '../../layers/keras3/up-sampling.js';

registerTranslator(['Reshape'], (layer, context) => ({
  class_name: 'Reshape',
  config: translateFields(layer.config, { ...baseLayerFields, target_shape: copy }, context),
}));

registerTranslator(['Permute'], (layer, context) => ({
  class_name: 'Permute',
  config: translateFields(layer.config, { ...baseLayerFields, dims: copy }, context),
}));

registerTranslator(['RepeatVector'], (layer, context) => ({
  class_name: 'RepeatVector',
  config: translateFields(layer.config, { ...baseLayerFields, n: copy }, context),
}));

registerTranslator(['Cropping2D'], (layer, context) => ({
  class_name: 'Cropping2D',
  config: translateFields(layer.config, { ...baseLayerFields, cropping: copy, data_format: copy }, context),
}));

registerTranslator(['ZeroPadding2D'], (layer, context) => ({
  class_name: 'ZeroPadding2D',
  config: translateFields(layer.config, { ...baseLayerFields, padding: copy, data_format: copy }, context),
}));

/**
 * Only 'nearest': Keras 3 repeats rows and columns, as tf.image.resizeNearestNeighbor does for an
 * integer factor. Keras's 'bilinear' is tf.image.resize with half-pixel centers, while
 * tfjs-layers calls resizeBilinear without them (TF1's sampling grid), so the values differ;
 * tfjs has no bicubic or lanczos.
 */
const interpolation: FieldRule = (value, context, field) => {
  if (value !== 'nearest') {
    throw new UnsupportedLayerError(
      `${context.where(field)}: interpolation ${JSON.stringify(value)} is not supported: ` +
        (value === 'bilinear'
          ? "tfjs-layers' UpSampling2D samples bilinear on TF1's grid (no half-pixel centers), unlike Keras 3."
          : "tfjs-layers' UpSampling2D has only 'nearest' and 'bilinear'."),
    );
  }
  return { key: field, value };
};

registerTranslator(['UpSampling2D'], (layer, context) => ({
  class_name: 'UpSampling2D',
  config: translateFields(layer.config, { ...baseLayerFields, size: copy, data_format: copy, interpolation }, context),
}));

// The 1D and 3D siblings of tfjs-layers' 2D layers, which tfjs-layers lacks: keras-bridge's N-D layers.
registerTranslator(['Cropping1D'], to('KerasCropping', { cropping: oneAxis }));
registerTranslator(['Cropping3D'], to('KerasCropping', { cropping: copy, data_format: copy }));
registerTranslator(['ZeroPadding1D'], to('KerasZeroPadding', { padding: oneAxis, data_format: copy }));
registerTranslator(['ZeroPadding3D'], to('KerasZeroPadding', { padding: copy, data_format: copy }));
registerTranslator(['UpSampling1D'], to('KerasUpSampling', { size: oneAxis }));
registerTranslator(['UpSampling3D'], to('KerasUpSampling', { size: copy, data_format: copy }));
