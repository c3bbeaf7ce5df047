import assert from 'node:assert/strict';
import path from 'node:path';
import tf from '#tfjs';
import { activeBackendName, probeBackend, useBackend } from '../../../src/backends/index.js';
import { convertKerasModel, toModelArtifacts } from '../../../src/convert/convert-model.js';
import { translateLayer } from '../../../src/convert/translate-layer.js';
import { weightsFromBundle } from '../../../src/convert/weight-source.js';
import { InputError, UnsupportedLayerError } from '../../../src/errors.js';
import type { KerasObject } from '../../../src/keras/keras-object.js';
import { loadBundle } from '../../../src/keras/bundle.js';
import { FIXTURE_BUNDLES } from '../../support/paths.js';
import { assertEveryFieldAccountedFor, withConfig, zooLayer } from '../../support/zoo-layer.js';

function refused(layer: KerasObject, pattern: RegExp): void {
  assert.throws(() => translateLayer(layer, 'm.json'), (e: unknown) => e instanceof UnsupportedLayerError && pattern.test(e.message));
}

describe('convolutional translators', () => {
  it('every field of every zoo convolution is translated or noted', () => assertEveryFieldAccountedFor('conv'));

  it('Conv2D keeps its fields under their Keras names and drops groups=1 with a note', () => {
    const conv = zooLayer('conv', 'conv2d_same_stride2_relu', 'Conv2D');
    const { tfjs, conversion } = translateLayer(conv, 'm.json');
    assert.equal(tfjs.class_name, 'Conv2D');
    assert.deepEqual(
      [tfjs.config['filters'], tfjs.config['kernel_size'], tfjs.config['strides'], tfjs.config['padding'], tfjs.config['activation']],
      [3, [3, 2], [2, 2], 'same', 'relu'],
    );
    assert.ok(conversion.notes.some((n) => n.field === 'groups' && n.action === 'dropped'));
  });

  it('Conv1D runs as tfjs Conv1D, or as KerasConv1D where tfjs cannot (causal, channels_first, dilation)', () => {
    const conv1d = zooLayer('conv', 'conv1d_valid', 'Conv1D');
    assert.equal(translateLayer(conv1d, 'm.json').tfjs.class_name, 'Conv1D');
    for (const change of [{ padding: 'causal' }, { data_format: 'channels_first' }, { dilation_rate: [2] }]) {
      const { tfjs } = translateLayer(withConfig(conv1d, change), 'm.json');
      assert.equal(tfjs.class_name, 'KerasConv1D', JSON.stringify(change));
    }
  });

  it('Conv1D, Conv2D and Conv3D with groups > 1 run as KerasGroupedConv1D/2D/3D, keeping groups, causal padding and dilation', () => {
    for (const [model, className, expected] of [
      ['grouped_conv1d_groups2_causal_dilated', 'Conv1D', 'KerasGroupedConv1D'],
      ['grouped_conv2d_depthwise_7x7_same', 'Conv2D', 'KerasGroupedConv2D'],
      ['grouped_conv3d_groups2_valid', 'Conv3D', 'KerasGroupedConv3D'],
    ] as const) {
      const { tfjs, conversion } = translateLayer(zooLayer('conv', model, className), 'm.json');
      assert.equal(tfjs.class_name, expected, model);
      assert.ok(!conversion.notes.some((n) => n.field === 'groups'), `${model}: groups is kept, not noted`);
    }
    const causal = translateLayer(zooLayer('conv', 'grouped_conv1d_groups2_causal_dilated', 'Conv1D'), 'm.json').tfjs.config;
    assert.deepEqual([causal['groups'], causal['padding'], causal['dilation_rate']], [2, 'causal', [2]]);
  });

  it("refuses groups that do not divide filters or the input's channels, naming file, layer and field", () => {
    const conv2d = zooLayer('conv', 'grouped_conv2d_groups2_stride2_same', 'Conv2D');
    const invalid = (layer: KerasObject, pattern: RegExp) =>
      assert.throws(() => translateLayer(layer, 'm.json'), (e: unknown) => e instanceof InputError && pattern.test(e.message));
    invalid(withConfig(conv2d, { filters: 5 }), /^m\.json: layer 'conv2d', field 'filters': 5 filters cannot be split into groups=2/);
    invalid(withConfig(conv2d, { groups: 0 }), /^m\.json: layer 'conv2d', field 'groups': 0 is not a positive integer/);
    // The input has 4 channels (build_config).
    invalid(withConfig(conv2d, { groups: 8, filters: 8 }), /^m\.json: layer 'conv2d', field 'groups': the input's 4 channels cannot be split into groups=8/);
  });

  it('refuses what tfjs-layers cannot compute, naming file, layer and field', () => {
    const conv2d = zooLayer('conv', 'conv2d_valid', 'Conv2D');
    refused(withConfig(conv2d, { lora_rank: 4, lora_alpha: 4 }), /field 'lora_rank'/);
    const transpose = zooLayer('conv', 'conv2d_transpose_valid', 'Conv2DTranspose');
    refused(withConfig(transpose, { output_padding: [1, 1] }), /field 'output_padding'/);
    refused(withConfig(transpose, { dilation_rate: [2, 2] }), /field 'dilation_rate'.*ignore dilation_rate/);
    const depthwise = zooLayer('conv', 'depthwise_valid', 'DepthwiseConv2D');
    refused(withConfig(depthwise, { dilation_rate: [2, 2] }), /layer 'depthwise_conv2d', field 'dilation_rate'/);
    const separable = zooLayer('conv', 'separable_valid', 'SeparableConv2D');
    refused(withConfig(separable, { data_format: 'channels_first' }), /field 'data_format': channels_first with use_bias/);
  });

  // tfjs-core runs dilated convolutions but cannot differentiate them, so the zoo (which checks
  // gradients) has none; this checks the forward pass against the definition instead.
  it('a dilated Conv2D computes sum over p, q, c of x[i + 2p, j + 2q, c] * kernel[p, q, c] + bias on every backend', async () => {
    const bundle = await loadBundle(path.join(FIXTURE_BUNDLES, 'zoo', 'conv', 'conv2d_valid'));
    const config = structuredClone(bundle.modelConfig);
    const conv = (config.config['layers'] as KerasObject[]).find((l) => l.class_name === 'Conv2D')!;
    conv.config['dilation_rate'] = [2, 2];
    const converted = await convertKerasModel(config, weightsFromBundle(bundle), 'dilated.json');
    const previous = activeBackendName();
    try {
      for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
        if (!(await probeBackend(backend)).available) continue;
        await useBackend(backend);
        const model = await tf.loadLayersModel(tf.io.fromMemory(toModelArtifacts(converted)));
        const [kernel, bias] = model.getLayer(conv.config['name'] as string).getWeights().map((w) => w.arraySync()) as [number[][][][], number[]];
        const x = tf.tensor4d(Float32Array.from({ length: 2 * 6 * 6 * 2 }, (_, i) => Math.sin(i * 1.7)), [2, 6, 6, 2]);
        const actual = (model.predict(x) as tf.Tensor).arraySync() as number[][][][];
        assert.deepEqual([actual.length, actual[0]!.length, actual[0]![0]!.length, actual[0]![0]![0]!.length], [2, 2, 2, 3]);
        const input = x.arraySync();
        for (const [b, rows] of actual.entries()) {
          for (const [i, cols] of rows.entries()) {
            for (const [j, outs] of cols.entries()) {
              for (const [o, value] of outs.entries()) {
                let expected = bias[o]!;
                for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) for (let c = 0; c < 2; c++) expected += input[b]![i + 2 * p]![j + 2 * q]![c]! * kernel[p]![q]![c]![o]!;
                assert.ok(Math.abs(value - expected) < 1e-5, `${backend} [${b},${i},${j},${o}]: ${value} vs ${expected}`);
              }
            }
          }
        }
        model.dispose();
        x.dispose();
      }
    } finally {
      await tf.setBackend(previous ?? 'cpu');
    }
  });
});
