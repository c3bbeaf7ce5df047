import assert from 'node:assert/strict';
import { translateLayer } from '../../../src/convert/translate-layer.js';
import { translatedModuleClasses } from '../../../src/convert/translator-registry.js';
import { UnregisteredLayerError, UnsupportedLayerError } from '../../../src/errors.js';
import { assertEveryFieldAccountedFor, zooLayer } from '../../support/zoo-layer.js';

// keras.applications' own layers (fixtures/zoo/applications.py), on the configs Keras wrote for them.
describe('keras.applications layer translators', () => {
  it('every field of every zoo applications layer is translated or noted', () => assertEveryFieldAccountedFor('applications'));

  it("LayerScale and CustomScaleLayer are found under the module Keras records, with their config fields", () => {
    const scale = zooLayer('applications', 'convnext_block_layer_scale', 'LayerScale');
    assert.equal(scale.module, 'keras.src.applications.convnext');
    const layerScale = translateLayer(scale, 'm.keras');
    assert.deepEqual([layerScale.tfjs.class_name, layerScale.tfjs.config['init_values'], layerScale.tfjs.config['projection_dim']], ['KerasLayerScale', 1e-6, 8]);
    assert.equal(layerScale.conversion.mapping, 'tfjs');
    const custom = translateLayer(zooLayer('applications', 'custom_scale_layer_block35', 'CustomScaleLayer'), 'm.keras').tfjs;
    assert.deepEqual([custom.class_name, custom.config['scale']], ['KerasCustomScaleLayer', 0.17]);
    assert.deepEqual(
      translatedModuleClasses().map((c) => `${c.module}.${c.className}`),
      ['keras.src.applications.inception_resnet_v2.CustomScaleLayer', 'keras.src.applications.convnext.LayerScale'],
    );
  });

  it("a user's own class of the same name is a custom layer, and the name alone under another Keras module is no Keras layer", () => {
    const scale = zooLayer('applications', 'convnext_block_layer_scale', 'LayerScale');
    assert.throws(
      () => translateLayer({ ...scale, module: 'my_project.layers', registered_name: 'my_project>LayerScale' }, 'm.keras'),
      (e: unknown) => e instanceof UnregisteredLayerError && /m\.keras: custom layer class 'LayerScale' has no TypeScript implementation registered/.test(e.message),
    );
    assert.throws(
      () => translateLayer({ ...scale, module: 'keras.layers' }, 'm.keras'),
      (e: unknown) => e instanceof UnsupportedLayerError && /layer 'block_layer_scale'.*Keras layer class 'LayerScale': not supported by the converter yet/.test(e.message),
    );
  });
});
