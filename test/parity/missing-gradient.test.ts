import assert from 'node:assert/strict';
import tf from '#tfjs';
import type { Bundle } from '../../src/keras/bundle.js';
import { explainMissingGradient, GradientUnavailableError, undifferentiableOperation } from '../../src/parity/missing-gradient.js';

/** Keeps each row's k largest values: tfjs 4.22 registers no gradient for TopK. */
class TopKValues extends tf.layers.Layer {
  static readonly className = 'TopKValues';
  override computeOutputShape(shape: tf.Shape): tf.Shape {
    return [shape[0]!, 2];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.topk(Array.isArray(inputs) ? inputs[0]! : inputs, 2).values;
  }
}

describe('a backward pass tfjs cannot compute', () => {
  it('is named by operation and by the layer that runs it', async () => {
    const input = tf.input({ shape: [4] });
    const hidden = tf.layers.dense({ units: 4, name: 'dense' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: new TopKValues({ name: 'top_k' }).apply(hidden) as tf.SymbolicTensor });
    const x = tf.ones([2, 4]);
    let error: unknown;
    try {
      tf.variableGrads(() => tf.sum(model.apply(x) as tf.Tensor) as tf.Scalar, model.trainableWeights.map((w) => w.read() as tf.Variable));
    } catch (e) {
      error = e;
    }
    assert.equal(undifferentiableOperation(error), 'TopK');
    const explained = await explainMissingGradient(error, model, { dir: 'bundles/top_k' } as Bundle);
    assert.ok(explained instanceof GradientUnavailableError);
    assert.deepEqual(explained.layers, ['top_k']);
    assert.equal(explained.reason, "tfjs has no gradient for the operation 'TopK', which layer 'top_k' (TopKValues) runs");
    assert.match(explained.message, /^bundles\/top_k: .*so gradients cannot be compared\. Give that layer's call a gradient with tf\.customGrad/);
    tf.dispose(x);
    model.dispose();
  });

  it('tells dilated convolutions apart from other errors', () => {
    const dilated = new Error("Error in gradient of fused conv2D: dilation rates greater than 1 are not yet supported in gradients. Got dilations '2,2'");
    assert.equal(undifferentiableOperation(dilated), 'fused conv2D with dilation rates greater than 1');
    assert.equal(undifferentiableOperation(new Error('Cannot read properties of undefined')), null);
  });
});
