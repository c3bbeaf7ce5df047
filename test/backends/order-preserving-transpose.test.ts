import assert from 'node:assert/strict';
import tf from '#tfjs';
import { keepsMemoryOrder } from '../../src/backends/kernel-fixes/order-preserving-transpose.js';
import { onBackend } from '../support/backend-suite.js';

const isIdentity = (perm: number[]) => perm.every((axis, i) => axis === i);

// A Transpose by the identity is the same buffer on wasm and tensorflow, one that moves only
// length-1 axes a Reshape on tensorflow (order-preserving-transpose.ts); every other permutation
// still runs the backend's own kernel. Values are checked against
// index arithmetic.
describe('Transpose that moves no value (src/backends/kernel-fixes/order-preserving-transpose.ts)', function () {
  it('keepsMemoryOrder: identity and moves of length-1 axes only', () => {
    assert.equal(keepsMemoryOrder([256, 1024], [0, 1]), true);
    assert.equal(keepsMemoryOrder([256, 1024], [1, 0]), false);
    assert.equal(keepsMemoryOrder([1, 128, 4, 64], [1, 0, 2, 3]), true);
    assert.equal(keepsMemoryOrder([2, 128, 1, 64], [0, 2, 1, 3]), true);
    assert.equal(keepsMemoryOrder([2, 128, 1, 64], [1, 0, 2, 3]), false);
    assert.equal(keepsMemoryOrder([1, 1, 1], [2, 1, 0]), true);
  });

  const cases: Array<[number[], number[]]> = [
    [[3, 5], [0, 1]],
    [[1, 6, 4], [1, 0, 2]],
    [[2, 1, 3, 1], [0, 3, 2, 1]],
    [[2, 1, 3, 1], [3, 0, 1, 2]],
    [[2, 3, 4], [2, 0, 1]], // moves values: the backend's own kernel
    [[4, 1, 5], [2, 1, 0]], // moves values
  ];

  for (const backendName of ['wasm', 'tensorflow'] as const) {
    describe(backendName, function () {
      onBackend(backendName);

      // wasm keeps one XNNPACK operator per right operand's tensor id, packed for the shape it first
      // saw: a transposed view sharing a weight's id would reuse it (this product gave [1, 0, 0, 0]).
      it('a weight [4, 1] in a product, then its transpose [1, 4] in another: the transpose\'s values', async () => {
        const x = tf.tensor2d([[0.5, -1, 2, 0.25]]);
        const w = tf.tensor2d([[1], [2], [3], [4]]);
        const first = tf.matMul(x, w);
        const second = tf.matMul(tf.ones([1, 1]), w, false, true);
        const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.matMul(input, w)))(x);
        assert.deepEqual(Array.from(await first.data()), [5.5]);
        assert.deepEqual(Array.from(await second.data()), [1, 2, 3, 4]);
        assert.deepEqual(Array.from(await gradient.data()), [1, 2, 3, 4]);
        tf.dispose([x, w, first, second, gradient]);
      });

      for (const [shape, perm] of cases) {
        it(`[${shape}] by [${perm}]: the values by index${isIdentity(perm) ? ', no new buffer' : ''}`, async () => {
          const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 0.5 - 3);
          // The expected values by index arithmetic, independent of any backend.
          const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
          const outShape = perm.map((a) => shape[a]!);
          const byIndex: number[] = [];
          const index = new Array<number>(outShape.length).fill(0);
          for (let flat = 0; flat < values.length; flat++) {
            let source = 0;
            for (let k = 0; k < perm.length; k++) source += index[k]! * strides[perm[k]!]!;
            byIndex.push(values[source]!);
            for (let k = outShape.length - 1; k >= 0; k--) {
              if (++index[k]! < outShape[k]!) break;
              index[k] = 0;
            }
          }
          const before = tf.backend().numDataIds();
          const x = tf.tensor(values, shape);
          const y = tf.transpose(x, perm);
          assert.deepEqual(y.shape, outShape);
          if (isIdentity(perm)) assert.equal(tf.backend().numDataIds(), before + 1, 'a second reference, no new buffer');
          x.dispose(); // the values outlive the input
          assert.deepEqual(Array.from(await y.data()), byIndex);
          y.dispose();
          assert.equal(tf.backend().numDataIds(), before);
        });
      }
    });
  }
});
