import assert from 'node:assert/strict';
import tf from '#tfjs';
import { translateLayer } from '../../src/convert/translate-layer.js';
import { KerasOperation } from '../../src/layers/operations/keras-operation-layer.js';

function operation(name: string, args: unknown[], operationConfig: Record<string, unknown> = {}): KerasOperation {
  return new KerasOperation({ operation: name, operationConfig, arguments: args });
}

describe('Keras operations on masks and integer heads', () => {
  it('a symbolic output takes the dtype the operation computes: tfjs-layers would make it float32 and cast every value to it', async () => {
    const mask = tf.input({ shape: [3], dtype: 'bool' });
    const x = tf.input({ shape: [3] });
    const notMasked = operation('numpy.LogicalNot', [{ tensor: 0 }]).apply(mask) as tf.SymbolicTensor;
    const asFloat = operation('core.Cast', [{ tensor: 0 }], { dtype: 'float32' }).apply(mask) as tf.SymbolicTensor;
    const label = operation('numpy.Argmax', [{ tensor: 0 }], { axis: -1 }).apply(x) as tf.SymbolicTensor;
    const kept = operation('numpy.Where', [{ tensor: 0 }, { tensor: 1 }, -1]).apply([mask, x]) as tf.SymbolicTensor;
    assert.deepEqual([notMasked.dtype, asFloat.dtype, label.dtype, kept.dtype], ['bool', 'float32', 'int32', 'float32']);
    // Through a whole model: the bool stays a bool (no cast to float32 on the way).
    const model = tf.model({ inputs: [mask, x], outputs: [notMasked, label, kept] });
    const [notMask, argmax, where] = model.predict([tf.tensor2d([[1, 0, 1]], [1, 3], 'bool'), tf.tensor2d([[0.5, 2, -1]])]) as tf.Tensor[];
    assert.equal(notMask!.dtype, 'bool');
    assert.deepEqual(await notMask!.array(), [[0, 1, 0]]);
    assert.deepEqual(await argmax!.array(), [1]);
    assert.deepEqual(await where!.array(), [[0.5, -1, -1]]);
  });

  it('where broadcasts, gives a Python number the other branch dtype, and differentiates through the branch taken', () => {
    const mask = tf.tensor2d([[1, 0], [0, 1]], [2, 2], 'bool');
    const ids = tf.tensor2d([[3, 4], [5, 6]], [2, 2], 'int32');
    const where = operation('numpy.Where', [{ tensor: 0 }, { tensor: 1 }, 0]);
    const chosen = where.apply([mask, ids]) as tf.Tensor;
    assert.equal(chosen.dtype, 'int32');
    assert.deepEqual(chosen.arraySync(), [[3, 0], [0, 6]]);
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(operation('numpy.Where', [{ tensor: 0 }, { tensor: 1 }, -1.0]).apply([tf.tensor1d([1, 0], 'bool'), v]) as tf.Tensor))(x);
    assert.deepEqual(grad.arraySync(), [[1, 0], [1, 0]]);
  });

  it("argmax with axis None is over the flattened tensor, as NumPy's; keepdims keeps the axis", () => {
    const x = tf.tensor2d([[0, 5, 1], [7, 2, 3]]);
    assert.deepEqual((operation('numpy.Argmax', [{ tensor: 0 }], { axis: null }).apply(x) as tf.Tensor).arraySync(), 3);
    assert.deepEqual((operation('numpy.Argmin', [{ tensor: 0 }], { axis: 0, keepdims: true }).apply(x) as tf.Tensor).arraySync(), [[0, 1, 0]]);
  });

  it('an int64 input converts to an int32 tfjs input, with a note; a uint8 one too', () => {
    for (const dtype of ['int64', 'uint8']) {
      const { tfjs, conversion } = translateLayer({ module: 'keras.layers', class_name: 'InputLayer', config: { name: 'ids', batch_shape: [null, 4], dtype } }, 'm.json');
      assert.equal(tfjs.config['dtype'], 'int32');
      assert.ok(conversion.notes.some((n) => n.field === 'dtype' && n.action === 'changed' && /tfjs has no \w+ tensors/.test(n.reason)));
    }
  });
});
