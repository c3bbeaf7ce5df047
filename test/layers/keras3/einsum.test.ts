import assert from 'node:assert/strict';
import tf from '#tfjs';
import { einsum } from '../../../src/layers/keras3/einsum.js';
import { onCpu, onWasm } from '../../support/backend-suite.js';
import { denseProductCalls } from '../../../src/backends/kernel-fixes/fused-mat-mul-tiles.js';

const CASES: Array<[string, number[], number[]]> = [
  ['ab,bc->ac', [2, 3], [3, 4]],
  ['abc,cde->abde', [2, 3, 4], [4, 2, 5]],
  ['abcd,cde->abe', [2, 3, 2, 5], [2, 5, 4]],
  ['aecd,abcd->acbe', [2, 3, 2, 4], [2, 5, 2, 4]],
  ['acbe,aecd->abcd', [2, 2, 5, 3], [2, 3, 2, 4]],
  ['...b,bc->...c', [2, 3, 4], [4, 5]],
  ['ab...,bc->ac...', [2, 3, 4], [3, 5]],
  ['ab,cd->abcd', [2, 3], [4, 1]],
  ['abc,bd->ad', [2, 3, 4], [3, 5]],
];

describe('einsum from transpose, reshape and matMul', () => {
  // tf.einsum, the reference, has a kernel on cpu only.
  onCpu();
  for (const [equation, shapeA, shapeB] of CASES) {
    it(`${equation} equals tf.einsum, and has a gradient`, () => {
      const a = tf.randomNormal(shapeA);
      const b = tf.randomNormal(shapeB);
      const reference = referenceEinsum(equation, a, b);
      const ours = einsum(equation, a, b);
      assert.deepEqual(ours.shape, reference.shape);
      assert.ok(tf.max(tf.abs(tf.sub(ours, reference))).dataSync()[0]! < 1e-5);
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(einsum(equation, x, y)))([a, b]);
      assert.deepEqual([ga!.shape, gb!.shape], [shapeA, shapeB]);
    });
  }

  // [equation, a, b, bias, whether the bias is one value per column of the product, as one row or shaped as its columns (fused)]
  const BIASED: Array<[string, number[], number[], number[], boolean]> = [
    ['abc,cd->abd', [2, 3, 4], [4, 6], [6], true],
    ['abcd,cde->abe', [2, 3, 2, 5], [2, 5, 4], [4], true],
    // Shaped as the product's columns (an attention projection's [heads, size]): one row, reshaped.
    ['abc,cde->abde', [2, 3, 4], [4, 2, 5], [2, 5], true],
    ['abcd,cde->abe', [2, 3, 2, 5], [2, 5, 4], [1, 4], true],
    ['abc,cde->abde', [2, 3, 4], [4, 2, 5], [1, 2, 5], true],
    ['abc,cde->abde', [2, 3, 4], [4, 2, 5], [5], false],
    ['abc,cde->abde', [2, 3, 4], [4, 2, 5], [3, 1, 1], false],
    ['aecd,abcd->acbe', [2, 3, 2, 4], [2, 5, 2, 4], [5, 3], false],
  ];
  for (const [equation, shapeA, shapeB, shapeBias, fused] of BIASED) {
    it(`${equation} with a bias of shape [${shapeBias}] equals einsum + bias, bit for bit, gradients too (${fused ? 'in the fused product' : 'added after'})`, async () => {
      const [a, b, bias] = [tf.randomNormal(shapeA), tf.randomNormal(shapeB), tf.randomNormal(shapeBias)];
      const info = await tf.profile(() => einsum(equation, a, b, bias));
      assert.equal(info.kernels.some((k) => k.name === '_FusedMatMul'), fused);
      assert.deepEqual(Array.from((info.result as tf.Tensor).dataSync()), Array.from(tf.add(einsum(equation, a, b), bias).dataSync()));
      const withBias = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(einsum(equation, x, y, z), 1.5)))([a, b, bias]);
      const added = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.add(einsum(equation, x, y), z), 1.5)))([a, b, bias]);
      withBias.forEach((g, i) => assert.deepEqual(Array.from(g.dataSync()), Array.from(added[i]!.dataSync()), `gradient ${i}`));
    });
  }

  it('refuses repeated labels and mismatched sizes, naming the equation', () => {
    assert.throws(() => einsum('aa,ab->b', tf.ones([2, 2]), tf.ones([2, 3])), /einsum 'aa,ab->b': repeated labels/);
    assert.throws(() => einsum('ab,bc->ac', tf.ones([2, 3]), tf.ones([4, 5])), /label 'b' has size 3 .* and 4/);
  });
});

// On wasm a bias reshaped to one row reaches tfjs-backend-wasm's fused product, which refuses one
// written with more axes: keras-bridge's fused product takes it (fused-mat-mul-tiles.ts).
describe('einsum on wasm with a bias shaped as the product\'s columns', () => {
  onWasm({ activate: true });
  const bitsEqual = (a: tf.Tensor, b: tf.Tensor, what: string) => assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), what);

  it('adds it after a small product, as Keras does, gradients too', async () => {
    const [a, b, bias] = [tf.randomNormal([2, 3, 4]), tf.randomNormal([4, 2, 5]), tf.randomNormal([2, 5])];
    const info = await tf.profile(() => einsum('abc,cde->abde', a, b, bias));
    assert.ok(info.kernels.some((k) => k.name === '_FusedMatMul'));
    bitsEqual(info.result as tf.Tensor, tf.add(einsum('abc,cde->abde', a, b), bias), 'values');
    const withBias = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(einsum('abc,cde->abde', x, y, z), 1.5)))([a, b, bias]);
    const added = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.add(einsum('abc,cde->abde', x, y), z), 1.5)))([a, b, bias]);
    withBias.forEach((g, i) => bitsEqual(g, added[i]!, `gradient ${i}`));
  });

  it("adds it in the tiles' pass over a weight's product (an attention projection at batch 8), the same bits", () => {
    const [x, kernel, bias] = [tf.randomNormal([8, 128, 256]), tf.randomNormal([256, 4, 64]), tf.randomNormal([4, 64])];
    const separate = tf.add(einsum('abc,cde->abde', x, kernel), bias);
    // The weight's panels are kept from its second use: the first call packs them.
    einsum('abc,cde->abde', x, kernel, bias).dispose();
    const before = denseProductCalls.count;
    const fused = einsum('abc,cde->abde', x, kernel, bias);
    assert.equal(denseProductCalls.count, before + 1, 'the product ran in the tiles with the bias in its epilogue');
    bitsEqual(fused, separate, 'values');
  });

  it('copies it to one row for tfjs\'s kernel where an activation follows', () => {
    const [a, b, bias] = [tf.randomNormal([6, 4]), tf.randomNormal([4, 10]), tf.randomNormal([2, 5])];
    const ours = tf.fused.matMul({ a, b, bias: tf.reshape(bias, [10]), activation: 'relu' });
    const reference = tf.relu(tf.add(tf.matMul(a, b), tf.reshape(bias, [10])));
    // XNNPACK starts its sums from the bias: float32 rounding apart.
    assert.ok(tf.max(tf.abs(tf.sub(ours, reference))).dataSync()[0]! < 1e-5);
  });
});

/** tf.einsum, which takes no '...' and no label summed out of one operand: expanded by hand here. */
function referenceEinsum(equation: string, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (equation === '...b,bc->...c') return tf.einsum('xyb,bc->xyc', a, b);
  if (equation === 'ab...,bc->ac...') return tf.einsum('abx,bc->acx', a, b);
  if (equation === 'abc,bd->ad') return tf.einsum('ab,bd->ad', tf.sum(a, 2), b);
  return tf.einsum(equation, a, b);
}
