import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import tf from '#tfjs';
import { KerasLSTMCell, KerasUnitNormalization } from '../../src/layers/keras3/index.js';
import { runLayerTest } from '../../src/testing/index.js';
import { FIXTURE_BUNDLES } from '../support/paths.js';

// runLayerTest must fail a layer that breaks each of its checks: the zoo bundle's UnitNormalization
// (axis [1, 2]) is loaded as a faulty subclass registered, for the test, under its class name.
const BUNDLE = `${FIXTURE_BUNDLES}/zoo/keras3_layers/unit_normalization_two_axes`;
const CLASS = 'KerasUnitNormalization';

async function withClassAs<T>(cls: typeof KerasUnitNormalization | typeof KerasLSTMCell, run: () => Promise<T>, className = CLASS): Promise<T> {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  const original = map[className]!;
  map[className] = [cls as never, (c, config) => new c(config)];
  try {
    return await run();
  } finally {
    map[className] = original;
  }
}

// A cell is built by its recurrent layer, not loaded by class name: the harness finds it as `rnn.cell`.
const CELL_BUNDLE = `${FIXTURE_BUNDLES}/zoo/recurrent/lstm_dropout_inference`;

const fails = (pattern: RegExp) => (e: unknown) => e instanceof AssertionError && pattern.test(e.message);

describe('keras-bridge/testing: runLayerTest', () => {
  it('passes a layer that keeps its config, weights, shapes and Keras parity', async () => {
    const result = await runLayerTest({ className: CLASS, bundleDir: BUNDLE });
    assert.deepEqual(result.checks, ['registered class', 'weights', 'output shapes', 'config round trip', 'parity (cpu)']);
    assert.equal(result.layerName, 'unit_normalization');
    assert.equal(result.kerasCounterpart, true);
  });

  it('fails a layer whose getConfig() loses a field (its copy computes something else)', async () => {
    class LosesAxis extends KerasUnitNormalization {
      override getConfig(): tf.serialization.ConfigDict {
        const { axis: _axis, ...rest } = super.getConfig();
        return rest;
      }
    }
    await assert.rejects(
      withClassAs(LosesAxis, () => runLayerTest({ className: CLASS, bundleDir: BUNDLE, skipParity: true })),
      fails(/config round trip: output 0 of the copy differs from the layer's on the same input and weights/),
    );
  });

  it('fails a layer whose computeOutputShape() disagrees with Keras and with its call', async () => {
    class WrongShape extends KerasUnitNormalization {
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
        return (inputShape as tf.Shape).slice(0, -1);
      }
    }
    await assert.rejects(
      withClassAs(WrongShape, () => runLayerTest({ className: CLASS, bundleDir: BUNDLE, skipParity: true })),
      fails(/output shapes: computeOutputShape\(\[null,3,5\]\) is \[\[null,3\]\], Keras's output shapes are \[\[null,3,5\]\]/),
    );
  });

  it("fails a layer whose output is off Keras's golden", async () => {
    class Scaled extends KerasUnitNormalization {
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.tidy(() => tf.mul(super.call(inputs), 1.01));
      }
    }
    await assert.rejects(
      withClassAs(Scaled, () => runLayerTest({ className: CLASS, bundleDir: BUNDLE })),
      fails(/parity \(cpu\): unit_normalization_two_axes cpu layer-alone-forward layer unit_normalization \(isolated\)/),
    );
  });

  it('fails a layer whose fromConfig() does not restore what getConfig() wrote, naming the field', async () => {
    class ForgetsAxis extends KerasUnitNormalization {
      constructor(args: ConstructorParameters<typeof KerasUnitNormalization>[0]) {
        super({ ...args, axis: (args as { restored?: boolean }).restored ? -1 : args.axis, restored: undefined });
      }
      override getConfig(): tf.serialization.ConfigDict {
        return { ...super.getConfig(), restored: true };
      }
    }
    await assert.rejects(
      withClassAs(ForgetsAxis, () => runLayerTest({ className: CLASS, bundleDir: BUNDLE, skipParity: true })),
      fails(/config round trip: the copy's config differs in 'axis' \(\[1,2\] → -1\)/),
    );
  });

  it('refuses a class name nothing is registered under', async () => {
    await assert.rejects(runLayerTest({ className: 'NoSuchLayer', bundleDir: BUNDLE }), fails(/NoSuchLayer: no class is registered under that name/));
  });

  it('refuses a bundle with no layer of the class', async () => {
    await assert.rejects(
      runLayerTest({ className: 'KerasSoftmax', bundleDir: BUNDLE }),
      fails(/the converted model has no layer of class KerasSoftmax/),
    );
  });

  it("finds a recurrent layer's cell, checks it on one step against the layer's Keras weights, and parity through the layer", async () => {
    const result = await runLayerTest({ className: 'KerasLSTMCell', bundleDir: CELL_BUNDLE });
    assert.equal(result.layerName, 'lstm/cell');
    assert.equal(result.place, 'cell');
    assert.equal(result.kerasCounterpart, false);
    assert.deepEqual(result.checks, ['registered class', 'weights', 'output shapes', 'config round trip', 'parity (cpu)']);
  });

  it('fails a cell whose fromConfig() loses a field, naming it', async () => {
    class LosesRecurrentActivation extends KerasLSTMCell {
      constructor(args: ConstructorParameters<typeof KerasLSTMCell>[0]) {
        super({ ...args, recurrentActivation: 'hardSigmoid' });
      }
    }
    await assert.rejects(
      withClassAs(LosesRecurrentActivation, () => runLayerTest({ className: 'KerasLSTMCell', bundleDir: CELL_BUNDLE, skipParity: true }), 'KerasLSTMCell'),
      fails(/KerasLSTMCell \(bundle .*, layer 'lstm\/cell'\) failed:\n.*registered class: the loaded layer is a KerasLSTMCell, not the class registered as 'KerasLSTMCell'\n.*config round trip: the copy's config differs in 'recurrentActivation' \("sigmoid" → "hardSigmoid"\)/),
    );
  });
});
