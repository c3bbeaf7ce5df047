import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { inMemory } from '../../src/convert/weight-data.js';
import { planWeights } from '../../src/convert/weight-plan.js';
import { streamWeights } from '../../src/convert/weight-stream.js';
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
  data: inMemory(new Uint8Array(new BigInt64Array([value]).buffer)),
});

/** The plan's bytes, as the converter writes them. */
async function written(plan: ReturnType<typeof planWeights>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  await streamWeights(plan, (bytes) => void chunks.push(bytes));
  return chunks;
}

describe('planWeights and streamWeights', () => {
  it('narrows an int64 weight to int32, noting the change, since tfjs has no int64', async () => {
    const plan = planWeights(model(), [int64(12345n)], 'm.keras');
    assert.deepEqual(plan.weights.map((w) => w.spec.dtype), ['int32']);
    assert.equal(plan.byteLength, 4);
    const [bytes] = await written(plan);
    assert.deepEqual([...new Int32Array(bytes!.slice().buffer)], [12345]);
    assert.deepEqual(plan.notes.map((n) => [n.field, n.from, n.to]), [["weights['norm/count']", 'int64', 'int32']]);
  });

  it('refuses an int64 value that int32 cannot hold instead of wrapping it', async () => {
    const plan = planWeights(model(), [int64(2n ** 40n)], 'm.keras');
    await assert.rejects(written(plan), (e: unknown) => e instanceof WeightMismatchError && /does not fit tfjs's int32/.test(e.message));
  });

  it('reads no weight while planning, and each one once, in order, while streaming', async () => {
    const reads: string[] = [];
    const counted = { ...int64(7n), data: { byteLength: 8, read: async () => (reads.push('count'), new Uint8Array(new BigInt64Array([7n]).buffer)) } };
    const plan = planWeights(model(), [counted], 'm.keras');
    assert.deepEqual(reads, []);
    await written(plan);
    assert.deepEqual(reads, ['count']);
  });

  it('refuses bytes that disagree with the shape they are stored for, naming the weight', async () => {
    const short = { ...int64(7n), data: inMemory(new Uint8Array(4)) };
    await assert.rejects(written(planWeights(model(), [short], 'm.keras')), /^WeightMismatchError: m\.keras: layer 'norm', weight 'count': 4 bytes stored for shape \[\] int64, which takes 8/);
  });
});

describe('streamWeights holds at most two weights at once', () => {
  it('reads weight i+2 only after weight i is written, whatever the model size', async () => {
    const layerCount = 6;
    const input = tf.input({ shape: [2] });
    let x = input;
    for (let i = 0; i < layerCount; i++) x = tf.layers.dense({ units: 2, useBias: false, name: `d${i}` }).apply(x) as tf.SymbolicTensor;
    const events: string[] = [];
    const weights = Array.from({ length: layerCount }, (_, i) => ({
      layer: `d${i}`,
      index: 0,
      name: 'kernel',
      path: `d${i}/kernel`,
      shape: [2, 2],
      dtype: 'float32' as const,
      data: { byteLength: 16, read: async () => (events.push(`read ${i}`), new Uint8Array(16)) },
    }));
    const plan = planWeights(tf.model({ inputs: input, outputs: x }), weights, 'm.keras');
    await streamWeights(plan, async (_bytes, weight) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      events.push(`write ${weight.layer.slice(1)}`);
    });
    for (let i = 0; i + 2 < layerCount; i++) {
      assert.ok(events.indexOf(`read ${i + 2}`) > events.indexOf(`write ${i}`), events.join(', '));
    }
    assert.equal(events.filter((e) => e.startsWith('read')).length, layerCount);
  });
});
