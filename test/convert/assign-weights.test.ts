import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assignWeights } from '../../src/convert/assign-weights.js';
import { WeightMismatchError } from '../../src/errors.js';

/** A layer with an int32 counter, like Keras's adapted Normalization (whose count Keras keeps as int64). */
class Counted extends tf.layers.Layer {
  static readonly className = 'CountedForAssignWeightsTest';
  override build(): void {
    this.addWeight('count', [], 'int32', tf.initializers.zeros(), undefined, false);
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0]! : inputs;
  }
}

function model(): tf.LayersModel {
  const input = tf.input({ shape: [2] });
  return tf.model({ inputs: input, outputs: new Counted({ name: 'norm' }).apply(input) as tf.SymbolicTensor });
}

const int64 = (value: bigint) => ({
  layer: 'norm',
  index: 0,
  name: 'count',
  path: 'norm/count',
  shape: [],
  dtype: 'int64' as const,
  bytes: new Uint8Array(new BigInt64Array([value]).buffer),
});

describe('assignWeights', () => {
  it('narrows an int64 weight to int32, noting the change, since tfjs has no int64', () => {
    const assigned = assignWeights(model(), [int64(12345n)], 'm.keras');
    assert.deepEqual(assigned.specs.map((s) => s.dtype), ['int32']);
    assert.deepEqual([...new Int32Array(assigned.data.buffer)], [12345]);
    assert.deepEqual(assigned.notes.map((n) => [n.field, n.from, n.to]), [["weights['norm/count']", 'int64', 'int32']]);
  });

  it('refuses an int64 value that int32 cannot hold instead of wrapping it', () => {
    assert.throws(() => assignWeights(model(), [int64(2n ** 40n)], 'm.keras'), (e: unknown) => e instanceof WeightMismatchError && /does not fit tfjs's int32/.test(e.message));
  });
});
