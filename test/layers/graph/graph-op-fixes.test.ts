import assert from 'node:assert/strict';
import tf from '#tfjs';
import { einsum } from '../../../src/layers/graph/einsum.js';
import { loadGraph } from '../../../src/layers/graph/keras-bridge-graph-layer.js';

// Einsum, SquaredDifference and StopGradient as graph layers run them (graph-op-fixes.ts):
// forward values and gradients checked against plain tfjs compositions of the same math.

const close = (a: tf.Tensor, b: tf.Tensor, what: string) => {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
  assert.ok(diff < 1e-5, `${what}: max difference ${diff}`);
};

describe('graph op fixes: Einsum as transposes, reshapes and matMul', () => {
  const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  // The equations Keras's MultiHeadAttention and EinsumDense trace to, a summed-alone index, one operand.
  const cases: Array<[string, number[][], (xs: tf.Tensor[]) => tf.Tensor]> = [
    ['abc,cde->abde', [[2, 3, 4], [4, 2, 5]], ([a, b]) => tf.reshape(tf.matMul(tf.reshape(a!, [6, 4]), tf.reshape(b!, [4, 10])), [2, 3, 2, 5])],
    ['aecd,abcd->acbe', [[2, 3, 2, 4], [2, 5, 2, 4]], ([a, b]) => tf.matMul(tf.transpose(b!, [0, 2, 1, 3]), tf.transpose(a!, [0, 2, 3, 1]))],
    ['acbe,aecd->abcd', [[2, 2, 5, 3], [2, 3, 2, 4]], ([a, b]) => tf.transpose(tf.matMul(a!, tf.transpose(b!, [0, 2, 1, 3])), [0, 2, 1, 3])],
    ['abcd,cde->abe', [[2, 3, 2, 4], [2, 4, 5]], ([a, b]) => tf.reshape(tf.matMul(tf.reshape(a!, [6, 8]), tf.reshape(b!, [8, 5])), [2, 3, 5])],
    ['ij,jk->ik', [[3, 4], [4, 2]], ([a, b]) => tf.matMul(a!, b!)],
    ['bij,k->bik', [[2, 3, 4], [5]], ([a, b]) => tf.mul(tf.sum(a!, 2, true), tf.reshape(b!, [1, 1, 5]))],
    ['ijk->ki', [[3, 4, 2]], ([a]) => tf.transpose(tf.sum(a!, 1))],
  ];
  for (const [equation, shapes, reference] of cases) {
    it(`${equation}: value and gradients`, () => {
      const xs = shapes.map((s, i) => rand(s, i + 1));
      close(einsum(equation, xs), reference(xs), `${equation} value`);
      const dy = rand(reference(xs).shape, 9);
      const loss = (f: (xs: tf.Tensor[]) => tf.Tensor) => (...args: tf.Tensor[]) => tf.sum(tf.mul(f(args), dy));
      const got = tf.grads(loss((args) => einsum(equation, args)))(xs);
      const want = tf.grads(loss(reference))(xs);
      got.forEach((g, i) => close(g, want[i]!, `${equation} gradient ${i}`));
    });
  }
  it('refuses what it does not run, naming the equation', () => {
    assert.throws(() => einsum('ii->i', [tf.ones([2, 2])]), /Einsum 'ii->i': an index repeats/);
    assert.throws(() => einsum('...ij->ij', [tf.ones([2, 2])]), /ellipses/);
  });
});

describe('graph op fixes: SquaredDifference and StopGradient in a GraphModel', () => {
  const placeholder = (name: string) => ({ name, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { unknownRank: true } } } });
  const graph = (nodes: object[]) =>
    loadGraph({ topology: { node: nodes, versions: { producer: 1 } }, weightSpecs: [], weightData: '' });

  it('SquaredDifference: the broadcast operand\'s gradient is summed to its shape (tfjs 4.22\'s is not)', () => {
    const model = graph([placeholder('a'), placeholder('b'), { name: 'sd', op: 'SquaredDifference', input: ['a', 'b'], attr: { T: { type: 'DT_FLOAT' } } }]);
    const a = tf.tensor3d([[[1, 2], [3, 5]]]);
    const b = tf.tensor3d([[[0.5, -1]]]);
    const run = (x: tf.Tensor, y: tf.Tensor) => tf.sum(model.execute({ a: x, b: y }, 'sd:0') as tf.Tensor);
    const [ga, gb] = tf.grads(run)([a, b]);
    close(ga!, tf.mul(2, tf.sub(a, b)), 'd/da');
    close(gb!, tf.sum(tf.mul(-2, tf.sub(a, b)), 1, true), 'd/db');
  });

  it('StopGradient: no gradient flows through it', () => {
    const model = graph([
      placeholder('a'),
      { name: 'stop', op: 'StopGradient', input: ['a'], attr: { T: { type: 'DT_FLOAT' } } },
      { name: 'out', op: 'Mul', input: ['a', 'stop'], attr: { T: { type: 'DT_FLOAT' } } },
    ]);
    const a = tf.tensor1d([1, 2, 3]);
    // d/da of a * stop_gradient(a) is stop_gradient(a) = a (TensorFlow's answer), not 2a.
    close(tf.grad((x: tf.Tensor) => tf.sum(model.execute({ a: x }, 'out:0') as tf.Tensor))(a), a, 'd/da');
  });
});
