import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { InputError, KerasBridgeError, LayerFieldError, UnsupportedLayerError, UnsupportedLayerFieldError } from '../../src/errors.js';
import {
  CallArguments,
  KerasAttention,
  KerasConv1D,
  KerasEinsumDense,
  KerasGroupNormalization,
  KerasNormalization,
} from '../../src/layers/keras3/index.js';
import { einsum } from '../../src/layers/keras3/einsum.js';
import { KerasOperation } from '../../src/layers/operations/keras-operation-layer.js';
import { FIXTURE_BUNDLES } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// A layer of ours refusing its config or input throws a typed error (exit 2) naming the layer
// class, the layer and the field; a broken invariant of our own code stays a plain Error (exit 70).

/** Asserts `run` throws `type` (an exit-2 error) naming layer 'l' of `className` and `field`. */
function refuses(run: () => unknown, type: typeof LayerFieldError | typeof UnsupportedLayerFieldError, className: string, field: string, detail: RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof type, `${String(e)} is not a ${type.name}`);
    assert.equal((e as KerasBridgeError).exitName, 'input_error');
    assert.deepEqual([e.layerClass, e.layerName, e.field], [className, 'l', field]);
    assert.match(e.message, new RegExp(`^layer 'l' \\(${className}\\), field '${field}': `));
    assert.match(e.detail, detail);
    return true;
  });
}

describe('typed errors of the layers in src/layers', () => {
  it('a config value Keras would refuse is a LayerFieldError (an InputError) naming the field', () => {
    refuses(() => new KerasGroupNormalization({ name: 'l', groups: 4 }).apply(tf.input({ shape: [3, 6] })), LayerFieldError, 'KerasGroupNormalization', 'groups', /6 channels cannot be split into 4 groups/);
    refuses(() => new KerasAttention({ name: 'l', scoreMode: 'cosine' as never }), LayerFieldError, 'KerasAttention', 'score_mode', /'cosine' is not 'dot' or 'concat'/);
    refuses(() => new KerasNormalization({ name: 'l', mean: [0] }), LayerFieldError, 'KerasNormalization', 'variance', /both mean and variance/);
    refuses(
      () => new KerasEinsumDense({ name: 'l', equation: 'ab,cd->ad', outputShape: [4] }).apply(tf.input({ shape: [3] })),
      LayerFieldError,
      'KerasEinsumDense',
      'equation',
      /weight label 'c' is in neither the input nor the output/,
    );
    refuses(() => new KerasConv1D({ name: 'l', filters: 2, kernelSize: 3, kernelInitializer: 'noSuchInitializer' }), LayerFieldError, 'KerasConv1D', 'kernel_initializer', /unknown initializer 'NoSuchInitializer'/);
    refuses(() => new KerasConv1D({ name: 'l', filters: 2, kernelSize: 3, activation: 'noSuchActivation' }), LayerFieldError, 'KerasConv1D', 'activation', /unknown activation 'noSuchActivation'/);
    refuses(() => new KerasOperation({ name: 'l', operation: 'numpy.NoSuchOp', arguments: [] }), LayerFieldError, 'KerasOperation', 'operation', /unknown operation 'numpy.NoSuchOp'/);
    refuses(
      () => new CallArguments({ name: 'l', layer: { className: 'NoSuchLayer', config: {} }, positionalArguments: 1, tensorKwargs: [] }),
      LayerFieldError,
      'KerasBridgeCallArguments',
      'layer',
      /unknown layer class 'NoSuchLayer'/,
    );
    assert.ok(new LayerFieldError('C', 'l', 'f', 'd') instanceof InputError);
  });

  it('a valid Keras value keras-bridge does not run is an UnsupportedLayerFieldError naming the field', () => {
    refuses(() => new KerasConv1D({ name: 'l', filters: 2, kernelSize: 3, padding: 'full' }), UnsupportedLayerFieldError, 'KerasConv1D', 'padding', /'full' is not supported/);
    refuses(
      () => new KerasEinsumDense({ name: 'l', equation: 'aab,bc->ac', outputShape: [4] }).apply(tf.input({ shape: [2, 3] })),
      UnsupportedLayerFieldError,
      'KerasEinsumDense',
      'equation',
      /repeated labels in 'aab'/,
    );
    assert.ok(new UnsupportedLayerFieldError('C', 'l', 'f', 'd') instanceof UnsupportedLayerError);
  });

  it('an operation refusing its arguments names the KerasOperation layer', () => {
    const layer = new KerasOperation({ name: 'l', operation: 'numpy.GetItem', arguments: [{ tensor: 0 }, { slice: [0, 2, 0] }] as never });
    assert.throws(
      () => layer.apply(tf.zeros([3, 2])),
      (e: unknown) => e instanceof LayerFieldError && e.field === 'arguments' && /numpy.GetItem: slice step cannot be zero/.test(e.message),
    );
  });

  it("our own code's broken invariant stays a plain Error (an internal error)", () => {
    assert.throws(
      () => einsum('ab,bc->ac', tf.zeros([2, 3]), tf.zeros([4, 5])),
      (e: unknown) => !(e instanceof KerasBridgeError) && /label 'b' has size 3 in the first operand and 4 in the second/.test((e as Error).message),
    );
  });

  it('keras-bridge convert: a bad layer field exits 2 naming the file, the layer and the field, without a stack trace', async function () {
    this.timeout(120_000);
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'keras-bridge-layer-errors-'));
    try {
      const bundle = path.join(tmp, 'bundle');
      await cp(path.join(FIXTURE_BUNDLES, 'zoo', 'keras3_layers', 'group_normalization'), bundle, { recursive: true });
      const configFile = path.join(bundle, 'model.keras.json');
      const config = JSON.parse(await readFile(configFile, 'utf8')) as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
      config.config.layers.find((l) => l.class_name === 'GroupNormalization')!.config['groups'] = 4; // 6 channels
      await writeFile(configFile, JSON.stringify(config));
      const result = await runCli(['convert', bundle, path.join(tmp, 'out')]);
      assert.equal(result.exitCode, 2, result.stderr);
      assert.match(result.stderr, /model\.keras\.json: layer 'group_normalization' \(KerasGroupNormalization\), field 'groups': 6 channels cannot be split into 4 groups/);
      assert.doesNotMatch(result.stderr, /internal error|\n\s+at /);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('keras-bridge parity --model-dir: a model.json with a bad layer field exits 2 naming the layer and the field (was an internal error, exit 70)', async function () {
    this.timeout(120_000);
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'keras-bridge-layer-errors-'));
    try {
      const bundle = path.join(FIXTURE_BUNDLES, 'zoo', 'keras3_layers', 'attention_dot');
      const out = path.join(tmp, 'out');
      assert.equal((await runCli(['convert', bundle, out])).exitCode, 0);
      const modelJson = path.join(out, 'model.json');
      const model = JSON.parse(await readFile(modelJson, 'utf8')) as { modelTopology: { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } } };
      const attention = model.modelTopology.config.layers.find((l) => l.class_name === 'KerasAttention')!;
      attention.config['score_mode'] = 'cosine';
      await writeFile(modelJson, JSON.stringify(model));
      const result = await runCli(['parity', bundle, '--model-dir', out]);
      assert.equal(result.exitCode, 2, result.stderr);
      assert.match(result.stderr, /layer 'attention' \(KerasAttention\), field 'score_mode': 'cosine' is not 'dot' or 'concat'/);
      assert.doesNotMatch(result.stderr, /internal error|\n\s+at /);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
