import * as tf from '@tensorflow/tfjs';

type Apply = (this: unknown, x: tf.Tensor) => tf.Tensor;

const PATCHED = Symbol.for('keras-bridge.single-op-relu6');

/**
 * tfjs-layers' `relu6` activation computes minimum(6, relu(x)): two operations, and on the
 * tensorflow backend two TensorFlow ops per layer where Keras runs one Relu6 (tf.nn.relu6). The same
 * values as tfjs-core's single relu6, which every backend has a kernel for (and, on tensorflow,
 * TensorFlow's Relu6 op: KERNEL_FIXES.tensorflow). Its gradient is then Relu6's, dy where
 * 0 < x <= 6 (tfjs-core) or 0 < x < 6 (TensorFlow, as Keras), which differ at x = 6 exactly only.
 * Installed once, when keras-bridge's runtime is imported.
 */
function installSingleOpRelu6(): void {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['relu6'] as [{ prototype: { apply: Apply; [PATCHED]?: true } }, unknown] | undefined;
  // A tfjs-layers without the class has nothing to fix.
  if (!entry) return;
  const prototype = entry[0].prototype;
  if (prototype[PATCHED]) return;
  prototype.apply = (x: tf.Tensor) => tf.relu6(x);
  prototype[PATCHED] = true;
}

installSingleOpRelu6();
