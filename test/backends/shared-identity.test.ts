import assert from 'node:assert/strict';
import tf from '#tfjs';
import { onWasm } from '../support/backend-suite.js';

// wasm's Identity and Cast (KERNEL_FIXES.wasm, shared-identity.ts): a clone, a cast to the dtype
// it has, or a slice of the whole tensor (heap-slice.ts) is a second reference to the same buffer, counted, so that either can be disposed first
// and the last one frees it.
describe('wasm: Identity and a cast to the same dtype share the buffer (src/backends/kernel-fixes/shared-identity.ts)', function () {
  onWasm({ activate: true });

  it('a clone holds the same buffer; the values outlive the original; the last dispose frees it', () => {
    const backend = tf.backend();
    const dataIdsBefore = backend.numDataIds();
    const x = tf.tensor1d([1.5, -2, 3]);
    const copy = tf.clone(x);
    assert.equal(copy.dataId, x.dataId);
    assert.equal(backend.numDataIds(), dataIdsBefore + 1);
    x.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1.5, -2, 3]);
    copy.dispose();
    assert.equal(backend.numDataIds(), dataIdsBefore);
  });

  it('a cast to its own dtype holds the same buffer (Identity\'s gradient is one); to another dtype, a buffer of its own', () => {
    const backend = tf.backend();
    const dataIdsBefore = backend.numDataIds();
    const x = tf.tensor1d([1.5, -2.5, 3]);
    const same = tf.cast(x, 'float32');
    assert.equal(same.dataId, x.dataId);
    assert.equal(backend.numDataIds(), dataIdsBefore + 1);
    const ints = tf.cast(x, 'int32');
    assert.notEqual(ints.dataId, x.dataId);
    x.dispose();
    assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.5, 3]);
    assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 3]);
    tf.dispose([same, ints]);
    assert.equal(backend.numDataIds(), dataIdsBefore);
  });

  it('the gradient through a clone (tfjs-layers\' Add layer clones its first operand) adds no buffer: dy itself', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const dy = tf.tensor1d([0.5, -1, 2]);
    const [cloneGradient] = tf.grads((a: tf.Tensor) => tf.clone(a))([x], dy);
    assert.equal(cloneGradient!.dataId, dy.dataId);
    assert.deepEqual(Array.from(cloneGradient!.dataSync()), [0.5, -1, 2]);
    tf.dispose([x, dy, cloneGradient!]);
  });

  it('under a tape, the inputs a gradient keeps add no buffer: Mul keeps both, one new buffer (its output)', () => {
    const backend = tf.backend();
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const w = tf.tensor2d([[0.5, -1], [2, 1]]);
    let added = -1;
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      const before = backend.numDataIds();
      const product = tf.mul(a, b);
      added = backend.numDataIds() - before;
      return tf.sum(product);
    })([x, w]);
    assert.equal(added, 1);
    assert.deepEqual(grads.map((g) => Array.from(g.dataSync())), [[0.5, -1, 2, 1], [1, 2, 3, 4]]);
    tf.dispose([...grads, x, w]);
  });

  it("a slice of the whole tensor (tfjs-layers' predict slicing its one batch) holds the same buffer; any other slice, its own", () => {
    const backend = tf.backend();
    const dataIdsBefore = backend.numDataIds();
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const whole = tf.slice(x, [0, 0], [2, -1]);
    assert.equal(whole.dataId, x.dataId);
    assert.deepEqual(whole.shape, [2, 3]);
    const part = tf.slice(x, [1, 0], [1, 3]);
    assert.notEqual(part.dataId, x.dataId);
    x.dispose();
    assert.deepEqual(Array.from(whole.dataSync()), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(part.dataSync()), [4, 5, 6]);
    tf.dispose([whole, part]);
    assert.equal(backend.numDataIds(), dataIdsBefore);
  });
});
