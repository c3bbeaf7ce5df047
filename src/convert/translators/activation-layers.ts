import { copy, droppedAtDefault, rename } from '../field-rules.js';
import { to, weightFields } from '../class-translator.js';
import { registerTranslator } from '../translator-registry.js';
import '../../layers/keras3/relu.js';
import '../../layers/keras3/elu.js';
import '../../layers/keras3/softmax.js';

// Keras 3's activation layers (keras.layers.ReLU, ...): to tfjs-layers' class where it computes the
// same for the given config, to keras-bridge's own (src/layers/keras3) otherwise.

const isZero = (value: unknown): boolean => value === 0 || value === null || value === undefined;
const isOne = (value: unknown): boolean => value === 1 || value === null || value === undefined;

registerTranslator(['ReLU'], (layer, context) =>
  isZero(layer.config['negative_slope']) && isZero(layer.config['threshold'])
    ? to('ReLU', {
        max_value: copy,
        negative_slope: droppedAtDefault(isZero, 'tfjs-layers ReLU has no negative_slope'),
        threshold: droppedAtDefault(isZero, 'tfjs-layers ReLU has no threshold'),
      })(layer, context)
    : to('KerasReLU', { max_value: copy, negative_slope: copy, threshold: copy })(layer, context),
);

registerTranslator(['LeakyReLU'], to('LeakyReLU', { negative_slope: rename('alpha') }));

registerTranslator(['PReLU'], to('PReLU', { ...weightFields('alpha'), shared_axes: copy }));

// tfjs-layers' ELU refuses (throws for) alpha ≠ 1.
registerTranslator(['ELU'], (layer, context) =>
  to(isOne(layer.config['alpha']) ? 'ELU' : 'KerasELU', { alpha: copy })(layer, context),
);

registerTranslator(['Softmax'], to('KerasSoftmax', { axis: copy }));
