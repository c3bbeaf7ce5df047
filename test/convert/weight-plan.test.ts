import assert from 'node:assert/strict';
import tf from '#tfjs';
import { inMemory } from '../../src/convert/weight-data.js';
import { planWeights } from '../../src/convert/weight-plan.js';
import { READ_AHEAD_BYTES, streamWeights } from '../../src/convert/weight-stream.js';
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

describe('streamWeights reads ahead within READ_AHEAD_BYTES (or one weight), whatever the model size', () => {
  /** Streams a Dense stack whose weights declare these byte lengths (their real bytes are 16), logging reads and writes in order. */
  async function streamed(declared: number[]): Promise<string[]> {
    const input = tf.input({ shape: [2] });
    let x = input;
    for (let i = 0; i < declared.length; i++) x = tf.layers.dense({ units: 2, useBias: false, name: `d${i}` }).apply(x) as tf.SymbolicTensor;
    const events: string[] = [];
    const weights = declared.map((byteLength, i) => ({
      layer: `d${i}`,
      index: 0,
      name: 'kernel',
      path: `d${i}/kernel`,
      shape: [2, 2],
      dtype: 'float32' as const,
      data: { byteLength, read: async () => (events.push(`read ${i}`), new Uint8Array(16)) },
    }));
    const plan = planWeights(tf.model({ inputs: input, outputs: x }), weights, 'm.keras');
    await streamWeights(plan, async (_bytes, weight) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      events.push(`write ${weight.layer.slice(1)}`);
    });
    assert.equal(events.filter((e) => e.startsWith('read')).length, declared.length);
    return events;
  }

  /** At each read of weight j, with i weights written: weights i+1..j (ahead of the one in hand) fit the window, or j is the next one. */
  function assertWithinWindow(events: string[], declared: number[]): void {
    let written = 0;
    for (const event of events) {
      const [what, index] = event.split(' ') as [string, string];
      if (what === 'write') written++;
      else {
        const j = Number(index);
        const ahead = declared.slice(written + 1, j + 1).reduce((a, b) => a + b, 0);
        assert.ok(j <= written + 1 || ahead <= READ_AHEAD_BYTES, `read ${j} with ${written} written: ${ahead} bytes ahead (${events.join(', ')})`);
      }
    }
  }

  it('reads weight i+2 only after weight i is written where each weight fills the window', async () => {
    const declared = Array.from({ length: 6 }, () => READ_AHEAD_BYTES);
    const events = await streamed(declared);
    for (let i = 0; i + 2 < declared.length; i++) assert.ok(events.indexOf(`read ${i + 2}`) > events.indexOf(`write ${i}`), events.join(', '));
    assertWithinWindow(events, declared);
  });

  it('asks for small weights ahead together, and never more than the window holds', async () => {
    const half = READ_AHEAD_BYTES / 2 + 1;
    const declared = [16, 16, 16, half, 16, half, half, 16, 16];
    const events = await streamed(declared);
    assert.deepEqual(events.slice(0, 4), ['read 0', 'read 1', 'read 2', 'read 3'], 'the first weights were asked for before any was written');
    assertWithinWindow(events, declared);
  });
});
