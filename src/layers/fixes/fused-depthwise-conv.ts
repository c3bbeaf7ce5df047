import * as tf from '@tensorflow/tfjs';

type Call = (this: DepthwiseConv2DFields, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** The fields of tfjs-layers' DepthwiseConv2D its call() reads. */
interface DepthwiseConv2DFields {
  dataFormat: string;
  strides: number[];
  padding: string;
  useBias: boolean;
  depthwiseKernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string } | null;
}

const PATCHED = Symbol.for('keras-bridge.fused-depthwise-conv');

/** Layer activations every backend's FusedDepthwiseConv2D kernel applies itself (tfjs-core's fused activation names). */
const FUSED_ACTIVATION: Readonly<Record<string, tf.fused.Activation>> = { linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu' };

/**
 * tfjs-layers' DepthwiseConv2D runs its convolution, bias and activation as three operations, where
 * its Conv2D uses tfjs-core's fused convolution (and Keras's graph fuses all three). MobileNetV2
 * has 17 of them. This call computes the same with tf.fused.depthwiseConv2d: one kernel per layer on
 * the backends that fuse (cpu, wasm, webgl, webgpu, and TensorFlow's _FusedDepthwiseConv2dNative
 * on tensorflow, KERNEL_FIXES.tensorflow). Under a gradient tape tfjs-core itself falls back to
 * the three operations for a non-linear activation, so gradients are computed as before.
 * channels_first, and activations that are not fused kernels' (custom ones, softmax...), keep
 * tfjs-layers' own call. Dilation stays as tfjs-layers has it (none: the converter refuses a
 * dilated DepthwiseConv2D). Installed once, when keras-bridge's runtime is imported.
 */
function installFusedDepthwiseConv(): void {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['DepthwiseConv2D'] as [{ prototype: { call: Call; [PATCHED]?: true } }, unknown] | undefined;
  if (!entry) return;
  const prototype = entry[0].prototype;
  if (prototype[PATCHED]) return;
  const original = prototype.call;
  prototype.call = function (this: DepthwiseConv2DFields, inputs, kwargs) {
    const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : undefined) : inputs;
    const activation = this.activation === null ? 'linear' : FUSED_ACTIVATION[this.activation.getClassName()];
    if (!x || x.rank !== 4 || this.dataFormat !== 'channelsLast' || activation === undefined) return original.call(this, inputs, kwargs);
    return tf.tidy(() =>
      tf.fused.depthwiseConv2d({
        x: x as tf.Tensor4D,
        filter: this.depthwiseKernel.read() as tf.Tensor4D,
        strides: this.strides as [number, number],
        pad: this.padding === 'same' ? 'same' : 'valid',
        dataFormat: 'NHWC',
        bias: this.useBias && this.bias ? this.bias.read() : undefined,
        activation,
      }),
    );
  };
  prototype[PATCHED] = true;
}

installFusedDepthwiseConv();
