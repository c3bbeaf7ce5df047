import assert from 'node:assert/strict';
import tf from '#tfjs';
import { int32Operand } from '../../src/backends/kernel-fixes/tensorflow-int-operands.js';
import { bindingCalls } from '../support/binding-calls.js';
import { onBackend } from '../support/backend-suite.js';

/** The same op on the cpu backend, for reference. */
async function onCpu(f: () => tf.Tensor): Promise<{ shape: number[]; dtype: string; values: number[] }> {
  const backend = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    const y = f();
    const out = { shape: y.shape, dtype: y.dtype, values: Array.from(await y.data()) };
    y.dispose();
    return out;
  } finally {
    await tf.setBackend(backend);
  }
}

// kernel-fixes/tensorflow-kept-operands.ts: Reshape, Transpose and reductions on tensorflow with
// their shape, permutation or axes kept as one TensorFlow handle instead of a tensor per call.
describe('tensorflow: Reshape, Transpose and reductions with kept int32 operands', function () {
  onBackend('tensorflow');

  const values = Array.from({ length: 2 * 3 * 4 }, (_, i) => ((i * 7) % 11) - 5 + i / 8);
  const cases: Array<[string, (x: tf.Tensor) => tf.Tensor]> = [
    ['reshape [2,3,4] to [4,6]', (x) => tf.reshape(x, [4, 6])],
    ['reshape to [-1, 2]', (x) => tf.reshape(x, [-1, 2])],
    ['transpose [2,0,1]', (x) => tf.transpose(x, [2, 0, 1])],
    ['transpose [0,2,1]', (x) => tf.transpose(x, [0, 2, 1])],
    ['sum over all', (x) => tf.sum(x)],
    ['sum over [0,2], kept', (x) => tf.sum(x, [0, 2], true)],
    ['sum over -1', (x) => tf.sum(x, -1)],
    ['mean over 1', (x) => tf.mean(x, 1)],
    ['mean over all, kept', (x) => tf.mean(x, undefined, true)],
    ['max over [1,2]', (x) => tf.max(x, [1, 2])],
    ['max over 0, kept', (x) => tf.max(x, 0, true)],
    ['min over 2', (x) => tf.min(x, 2)],
    ['prod over 0', (x) => tf.prod(x, 0)],
  ];
  for (const dtype of ['float32', 'int32'] as const) {
    for (const [label, op] of cases) {
      it(`${label} (${dtype}): cpu's shape, dtype and values; no tensor or buffer left behind`, async () => {
        const input = dtype === 'int32' ? values.map(Math.round) : values;
        const expected = await onCpu(() => op(tf.tensor(input, [2, 3, 4], dtype)));
        const before = { tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() };
        const x = tf.tensor(input, [2, 3, 4], dtype);
        const y = op(x);
        assert.deepEqual([y.shape, y.dtype], [expected.shape, expected.dtype]);
        const actual = Array.from(await y.data());
        // Sums and products of float32 in another order may differ in the last bit.
        actual.forEach((v, i) => assert.ok(Math.abs(v - expected.values[i]!) <= 1e-6 * Math.max(1, Math.abs(expected.values[i]!)), `${i}: ${v} vs ${expected.values[i]}`));
        tf.dispose([x, y]);
        assert.deepEqual({ tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() }, before);
      });
    }
  }

  it('takes an empty operand too: a reshape to a scalar, a sum over no axes', async () => {
    const one = tf.tensor1d([5]);
    const scalar = tf.reshape(one, []);
    assert.deepEqual([scalar.shape, Array.from(await scalar.data())], [[], [5]]);
    const y = tf.tensor2d([[1, 2], [3, 4]]);
    const none = tf.sum(y, []);
    assert.deepEqual([none.shape, Array.from(await none.data())], [[2, 2], [1, 2, 3, 4]]);
    tf.dispose([one, scalar, y, none]);
  });

  it('makes each operand once: a second reshape to the same shape creates no TensorFlow tensor for it', () => {
    const x = tf.tensor(values, [2, 3, 4]);
    tf.dispose(tf.reshape(x, [3, 8])); // its operand made here, or earlier
    const { result, calls } = bindingCalls(['createTensor', 'executeOp'], () => tf.reshape(x, [3, 8]));
    // The input was made a TensorFlow tensor by the first reshape: one op, no tensor created.
    assert.deepEqual(calls, { createTensor: 0, executeOp: 1 });
    tf.dispose([x, result]);
  });

  it('keeps at most 1,024 operands per backend: past that, it deletes them and starts over', () => {
    const backend = tf.backend();
    const first = int32Operand(backend, [-12345]);
    assert.equal(int32Operand(backend, [-12345]), first, 'kept');
    const { calls } = bindingCalls(['createTensor', 'deleteTensor'], () => {
      for (let i = 0; i < 1100; i++) int32Operand(backend, [-7, -7, i]); // keys no other test makes
    });
    assert.equal(calls['createTensor'], 1100);
    assert.equal(calls['deleteTensor'], 1024, 'the cache filled once, and every operand in it was deleted');
    assert.notEqual(int32Operand(backend, [-12345]), first, 'made again after the cache started over');
  });
});
