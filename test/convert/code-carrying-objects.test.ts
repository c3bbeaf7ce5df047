import assert from 'node:assert/strict';
import { InputError, UnsupportedLayerError } from '../../src/errors.js';
import { refuseCodeInConfig } from '../../src/convert/code-carrying-objects.js';

/** A functional model's config whose second layer's config is `inner`. */
function modelWith(inner: Record<string, unknown>): unknown {
  return {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: [
        { class_name: 'InputLayer', config: { name: 'input', batch_shape: [null, 4] } },
        { class_name: 'Dense', module: 'keras.layers', config: { name: 'dense', units: 2, ...inner } },
      ],
    },
  };
}

describe('configs that carry Python code or foreign references are refused, naming the layer and the field', () => {
  it('a Lambda layer nested in a model inside a model, by its path', () => {
    const config = { class_name: 'Functional', config: { name: 'outer', layers: [{ class_name: 'Functional', config: { name: 'inner', layers: [{}, { class_name: 'Lambda', config: { name: 'lam', function: {} } }] } }] } };
    assert.throws(
      () => refuseCodeInConfig(config, 'm.keras'),
      (e: unknown) => e instanceof UnsupportedLayerError && e.message.startsWith("m.keras: layer 'lam', field 'config.layers[0].config.layers[1]' is a Lambda layer"),
    );
  });

  it("a lambda given as a layer's activation, by the layer that holds it", () => {
    const config = modelWith({ activation: { class_name: '__lambda__', config: { code: '...', defaults: null, closure: null } } });
    assert.throws(
      () => refuseCodeInConfig(config, 'm.keras'),
      (e: unknown) => e instanceof UnsupportedLayerError && e.message.startsWith("m.keras: layer 'dense', field 'config.layers[1].config.activation' is a Python lambda"),
    );
  });

  it("a class of Python's standard library, and a built-in whose registered_name points elsewhere", () => {
    assert.throws(
      () => refuseCodeInConfig(modelWith({ kernel_initializer: { module: 'os', class_name: 'system', config: {} } }), 'm.keras'),
      (e: unknown) => e instanceof InputError && e.message.startsWith("m.keras: layer 'dense', field 'config.layers[1].config.kernel_initializer': names class 'system' of Python's standard-library module 'os'"),
    );
    const redirected = { class_name: 'Functional', config: { name: 'model', layers: [{ class_name: 'Dense', module: 'keras.layers', registered_name: 'os>system', config: { name: 'd' } }] } };
    assert.throws(
      () => refuseCodeInConfig(redirected, 'm.keras'),
      (e: unknown) => e instanceof InputError && e.message.startsWith("m.keras: layer 'd', field 'config.layers[0]': Keras built-in class 'Dense'"),
    );
  });

  it('passes a config with none, registered functions of a package included', () => {
    const config = modelWith({ activation: { module: 'builtins', class_name: 'function', config: 'my_package>gelu', registered_name: 'function' }, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null } });
    assert.doesNotThrow(() => refuseCodeInConfig(config, 'm.keras'));
    assert.doesNotThrow(() => refuseCodeInConfig([1, 'a', null, [[]]], 'm.keras'));
  });
});
