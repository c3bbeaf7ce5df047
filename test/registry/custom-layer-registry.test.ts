import assert from 'node:assert/strict';
import tf from '#tfjs';
import { z } from 'zod';
import { LayerConfigError, UnregisteredLayerError } from '../../src/errors.js';
import { translateLayer } from '../../src/convert/translate-layer.js';
import { findCustomLayer, registerLayer } from '../../src/registry/custom-layer-registry.js';

class ScaleByFactor extends tf.layers.Layer {
  static readonly className = 'ScaleByFactorForRegistryTest';
  readonly factor: number;
  constructor(args: { factor: number } & Record<string, unknown>) {
    super(args as object);
    this.factor = args.factor;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, this.factor);
  }
  override getConfig() {
    return { ...super.getConfig(), factor: this.factor };
  }
}

const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const entry = (config: Record<string, unknown>, className = ScaleByFactor.className) => ({
  module: 'my_layers',
  class_name: className,
  config: { name: 'scale', trainable: true, dtype: policy, ...config },
  registered_name: className,
});

describe('custom layer registry', () => {
  before(() => registerLayer(ScaleByFactor.className, ScaleByFactor, z.object({ factor: z.number() })));

  it('finds a registration by class name and by registered name', () => {
    assert.equal(findCustomLayer(ScaleByFactor.className)?.layerClass, ScaleByFactor);
    assert.equal(findCustomLayer('Other', ScaleByFactor.className)?.layerClass, ScaleByFactor);
  });

  it('refuses a class whose static className differs from the registered name', () => {
    assert.throws(() => registerLayer('SomethingElse', ScaleByFactor), /static className is 'ScaleByFactorForRegistryTest'/);
  });

  it('passes a valid config through with the dtype policy flattened', () => {
    const { tfjs, conversion } = translateLayer(entry({ factor: 2 }), 'model.keras.json');
    assert.equal(tfjs.class_name, ScaleByFactor.className);
    assert.deepEqual(tfjs.config, { name: 'scale', trainable: true, dtype: 'float32', factor: 2 });
    assert.equal(conversion.mapping, 'custom');
  });

  it('names the model file, the layer and the field of a config that fails the schema', () => {
    assert.throws(
      () => translateLayer(entry({ factor: 'two' }), 'bundles/m/model.keras.json'),
      (e: unknown) =>
        e instanceof LayerConfigError &&
        e.field === 'factor' &&
        /bundles\/m\/model\.keras\.json: layer 'scale', config field 'factor'/.test(e.message),
    );
  });

  it('refuses config fields the schema does not know', () => {
    assert.throws(() => translateLayer(entry({ factor: 2, bias: 1 }), 'm.json'), /config field 'bias': not in the schema/);
  });

  it('names the class and how to register it when no implementation is registered', () => {
    assert.throws(
      () => translateLayer(entry({}, 'NobodyRegisteredThis'), 'm.json'),
      (e: unknown) => e instanceof UnregisteredLayerError && /'NobodyRegisteredThis'.*registerLayer\('NobodyRegisteredThis'/s.test(e.message),
    );
  });
});
