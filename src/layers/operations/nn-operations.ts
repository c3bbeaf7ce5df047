import tf from '#tfjs';
import { registerOperation } from './operation-registry.js';

// keras.ops.nn operations whose formulas tfjs shares exactly.

const elementwise: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  Relu: tf.relu,
  Relu6: tf.relu6,
  Sigmoid: tf.sigmoid,
  Softplus: tf.softplus,
  Softsign: (x) => tf.div(x, tf.add(tf.abs(x), 1)),
  Silu: (x) => tf.mul(x, tf.sigmoid(x)),
  Elu: tf.elu,
  Selu: tf.selu,
};
for (const [name, fn] of Object.entries(elementwise)) {
  registerOperation(`nn.${name}`, ([x]) => fn(x as tf.Tensor));
}

registerOperation('nn.Softmax', ([x], config) => {
  const axis = (config.get('axis') as number | null) ?? -1;
  const t = x as tf.Tensor;
  // tfjs's softmax works on the last axis only; move `axis` there and back.
  const last = t.rank - 1;
  const a = axis < 0 ? axis + t.rank : axis;
  if (a === last) return tf.softmax(t);
  const perm = [...Array(t.rank).keys()];
  [perm[a], perm[last]] = [perm[last]!, perm[a]!];
  return tf.transpose(tf.softmax(tf.transpose(t, perm)), perm);
});

registerOperation('core.Cast', ([x], config) => tf.cast(x as tf.Tensor, config.get('dtype') as tf.DataType));
