import assert from 'node:assert/strict';
import tf from '#tfjs';
// Its engine fixes are installed, as in an app: the mean's input is kept only for its shape.
import '../../src/runtime.js';
import { tfMoments } from '../../src/ops/moments.js';
import { stopGradient } from '../../src/ops/stop-gradient.js';

// tf.nn.moments (what Keras 3's ops.moments runs on TensorFlow) stops the gradient at the mean
// inside the variance; tfjs's tf.moments does not. Both are the same function in exact arithmetic,
// so the difference shows only in float32 rounding, and these tests pin it bit for bit on cpu.
describe('ops: moments and stop_gradient as TensorFlow computes them', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  const x = () => tf.tidy(() => tf.add(tf.mul(tf.randomNormal([3, 5, 7], 0, 3, 'float32', 11), 1.7), 40));

  it('mean and variance are tf.moments\' values, with and without keepDims', () => {
    const input = x();
    for (const keepDims of [true, false]) {
      const ours = tfMoments(input, [1, 2], keepDims);
      const theirs = tf.moments(input, [1, 2], keepDims);
      assert.deepEqual(ours.mean.shape, theirs.mean.shape);
      assert.deepEqual(ours.variance.shape, theirs.variance.shape);
      assert.deepEqual(ours.mean.arraySync(), theirs.mean.arraySync());
      assert.deepEqual(ours.variance.arraySync(), theirs.variance.arraySync());
      tf.dispose([ours.mean, ours.variance, theirs.mean, theirs.variance]);
    }
    input.dispose();
  });

  it("the variance's gradient is 2 (x - mean) / n, with no path through the mean (tf.moments' differs in float32)", () => {
    const input = x();
    const n = 5 * 7;
    const grad = (moments: typeof tfMoments) => tf.grad((t: tf.Tensor) => tf.sum(moments(t, [1, 2], true).variance))(input);
    const ours = grad(tfMoments);
    const expected = tf.tidy(() => tf.mul(tf.sub(input, tf.mean(input, [1, 2], true)), 2 / n));
    assert.deepEqual(ours.arraySync(), expected.arraySync());
    // tfjs's own moments carries the (nonzero in float32) gradient through the mean as well.
    const tfjs = grad((t, axes, keepDims) => tf.moments(t, axes, keepDims));
    assert.notDeepEqual(tfjs.arraySync(), expected.arraySync());
    tf.dispose([input, ours, expected, tfjs]);
  });

  it("under a tape, the variance keeps x for its gradient, not x - mean (a second tensor of x's size)", () => {
    const input = x();
    const kept = new Set<object>();
    tf.tidy(() =>
      tf.grad((t: tf.Tensor) => {
        const variance = tfMoments(t, [1, 2], true).variance;
        const tape = (tf.engine().state as unknown as { activeTape: Array<{ saved?: tf.Tensor[] }> }).activeTape;
        for (const node of tape) for (const saved of node.saved ?? []) if (!saved.isDisposed && saved.size === t.size) kept.add(saved.dataId);
        return tf.sum(variance);
      })(input),
    );
    assert.deepEqual([...kept], [input.dataId]);
    input.dispose();
  });

  it('stopGradient is the identity forward and zero backward', () => {
    const input = x();
    assert.deepEqual(stopGradient(input).arraySync(), input.arraySync());
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.add(tf.mul(stopGradient(t), t), stopGradient(tf.square(t)))))(input);
    // d/dt (sg(t) * t + sg(t^2)) = sg(t) = t.
    assert.deepEqual(g.arraySync(), input.arraySync());
    tf.dispose([input, g]);
  });
});
