import * as tf from '@tensorflow/tfjs';

/**
 * tfjs-converter's executor runs a TensorFlow graph with tfjs ops; where a tfjs op disagrees with
 * TensorFlow's, the graph op is registered here with a fix (tf.registerOp: the executor asks its
 * registered ops first, for every GraphModel of the process).
 *
 * Cumsum: tf.cumsum(x, -1) in tfjs 4.22 returns an empty tensor (its kernels use a negative axis
 * as is), where TensorFlow counts it from the end (tf.math.cumsum(x, axis=-1), measured in
 * graph-fallback.test.ts). The fix normalizes the axis; everything else is tf.cumsum as the
 * converter calls it, so its gradient is tfjs's own.
 */
let registered = false;

export function registerGraphOpFixes(): void {
  if (registered) return;
  registered = true;
  tf.registerOp('Cumsum', (node) => {
    const [x, axisTensor] = node.inputs as [tf.Tensor, tf.Tensor];
    const axis = axisTensor.dataSync()[0]!;
    const attrs = node.attrs as { exclusive?: boolean; reverse?: boolean };
    return tf.cumsum(x, axis < 0 ? axis + x.rank : axis, attrs.exclusive ?? false, attrs.reverse ?? false);
  });
}
