import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { onWasm } from '../support/wasm-suite.js';

// wasm's Identity (KERNEL_FIXES.wasm, shared-identity.ts): a clone is a second reference to the
// same buffer, counted, so that either can be disposed first and the last one frees it.
describe('wasm: Identity shares the buffer (src/backends/kernel-fixes/shared-identity.ts)', function () {
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
});
