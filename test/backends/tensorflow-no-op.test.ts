import assert from 'node:assert/strict';
import tf from '#tfjs';
import { activeBackendName, probeBackend, useBackend } from '../../src/backends/index.js';
import { bindingCalls } from '../support/binding-calls.js';

/** How many TensorFlow ops tfjs-node executes while `f` runs (every op goes through the binding's executeOp). */
function tensorflowOps<T>(f: () => T): { result: T; ops: number } {
  const { result, calls } = bindingCalls(['executeOp'], f);
  return { result, ops: calls['executeOp']! };
}

// kernel-fixes/tensorflow-no-op.ts: a Reshape to the same shape and a Cast to the same dtype are a
// second reference to the buffer, not a TensorFlow op; real ones still are.
describe('no-op Reshape and Cast on the tensorflow backend run no TensorFlow op', function () {
  let previous: string | undefined;
  before(async function () {
    if (!(await probeBackend('tensorflow')).available) this.skip();
    previous = activeBackendName();
    await useBackend('tensorflow');
  });
  after(async function () {
    if (previous) await tf.setBackend(previous);
  });

  it('reshape to its own shape: no op, the same values, each reference disposable alone', async function () {
    const x = tf.tensor([1.5, -2, 3, 4.25, 5, 6], [2, 3]);
    const { result: same, ops } = tensorflowOps(() => tf.reshape(x, [2, 3]));
    assert.equal(ops, 0);
    x.dispose();
    assert.deepEqual(Array.from(await same.data()), [1.5, -2, 3, 4.25, 5, 6]);
    same.dispose();
  });

  it('cast to its own dtype: no op; to another dtype: TensorFlow\'s Cast', async function () {
    const x = tf.tensor([1.5, -2.5, 3], [3], 'float32');
    const { result: same, ops: none } = tensorflowOps(() => tf.cast(x, 'float32'));
    assert.equal(none, 0);
    const { result: ints, ops: one } = tensorflowOps(() => tf.cast(x, 'int32'));
    assert.equal(one, 1);
    assert.deepEqual(Array.from(await same.data()), [1.5, -2.5, 3]);
    assert.deepEqual(Array.from(await ints.data()), [1, -2, 3]);
    tf.dispose([x, same, ints]);
  });

  it('reshape to another shape: TensorFlow\'s Reshape', async function () {
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const { result: other, ops } = tensorflowOps(() => tf.reshape(x, [3, 2]));
    assert.equal(ops, 1);
    assert.deepEqual(other.shape, [3, 2]);
    assert.deepEqual(await other.array(), [[1, 2], [3, 4], [5, 6]]);
    tf.dispose([x, other]);
  });
});
