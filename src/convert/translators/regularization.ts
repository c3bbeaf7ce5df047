import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, translateFields } from '../field-rules.js';
import { registerTranslator } from '../translator-registry.js';
import { to } from '../class-translator.js';
import '../../layers/keras3/spatial-dropout.js';

// Regularization layers: identity at inference in Keras 3 and tfjs-layers alike (tfjs applies
// them only when called with training=true), so only their training-time behaviour is at stake.

/** A seed tfjs-layers' layer does not take: it draws its own noise, and only when training. */
const trainingSeed = droppedAtDefault(() => true, 'only seeds training-time noise, which tfjs-layers draws itself');

registerTranslator(['SpatialDropout1D'], (layer, context) => ({
  class_name: 'SpatialDropout1D',
  config: translateFields(layer.config, { ...baseLayerFields, rate: copy, seed: copy }, context),
}));

registerTranslator(['GaussianNoise'], (layer, context) => ({
  class_name: 'GaussianNoise',
  config: translateFields(layer.config, { ...baseLayerFields, stddev: copy, seed: trainingSeed }, context),
}));

registerTranslator(['GaussianDropout'], (layer, context) => ({
  class_name: 'GaussianDropout',
  config: translateFields(layer.config, { ...baseLayerFields, rate: copy, seed: trainingSeed }, context),
}));

/**
 * tfjs-layers 4.22's AlphaDropout sets dropped units to +1.7581 where Keras sets them to -1.7581
 * (a sign error, found by training-mode parity): keras-bridge's KerasAlphaDropout computes Keras's.
 */
registerTranslator(['AlphaDropout'], (layer, context) => {
  context.changed('class_name', 'AlphaDropout', 'KerasAlphaDropout', "tfjs-layers' AlphaDropout gives dropped units the wrong sign in training; keras-bridge's KerasAlphaDropout computes Keras's");
  return {
    class_name: 'KerasAlphaDropout',
    config: translateFields(layer.config, { ...baseLayerFields, rate: copy, noise_shape: copy, seed: copy }, context),
  };
});

/**
 * tfjs-layers has no ActivityRegularization. Keras's layer returns its input unchanged and adds
 * l1 * sum(|x|) + l2 * sum(x²) to the training losses; the converted layer is an identity
 * (linear Activation, which passes masks on like Keras's) without that loss.
 */
registerTranslator(['ActivityRegularization'], (layer, context) => {
  const penalty = droppedAtDefault(() => true, 'an activity penalty only adds a training loss; tfjs-layers has no ActivityRegularization, so the layer becomes an identity');
  context.changed('class_name', 'ActivityRegularization', 'Activation', 'identity (linear activation): the same output and gradients, without the training-loss penalty');
  return {
    class_name: 'Activation',
    config: { ...translateFields(layer.config, { ...baseLayerFields, l1: penalty, l2: penalty }, context), activation: 'linear' },
  };
});

// tfjs-layers has no SpatialDropout2D/3D: keras-bridge's KerasSpatialDropout (the identity at inference).
registerTranslator(['SpatialDropout2D', 'SpatialDropout3D'], to('KerasSpatialDropout', { rate: copy, seed: copy, data_format: copy }));
