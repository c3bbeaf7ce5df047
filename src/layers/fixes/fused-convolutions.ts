import * as tf from '@tensorflow/tfjs';
import { patchRegisteredClass } from './patch-registered-class.js';

type Call = (this: ConvolutionFields, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** The fields of tfjs-layers' Conv2D and DepthwiseConv2D that their call() reads. */
interface ConvolutionFields {
  /** 2 for Conv2D (Conv is also Conv1D's and Conv3D's base); DepthwiseConv2D has it too. */
  rank: number;
  dataFormat: string;
  strides: number[];
  padding: string;
  dilationRate: number | number[];
  useBias: boolean;
  kernel?: tf.LayerVariable;
  depthwiseKernel?: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string } | null;
}

const PATCHED = Symbol.for('keras-bridge.fused-convolutions');

/** Layer activations every backend's fused convolution kernels apply themselves (tfjs-core's fused activation names). */
const FUSED_ACTIVATION: Readonly<Record<string, tf.fused.Activation>> = { linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu' };

function fusedActivation(layer: ConvolutionFields): tf.fused.Activation | undefined {
  return layer.activation === null ? 'linear' : FUSED_ACTIVATION[layer.activation.getClassName()];
}

/** The one input tensor, when it is a 4-D one in channels-last order with valid or same padding; else undefined. */
function fusableInput(layer: ConvolutionFields, inputs: tf.Tensor | tf.Tensor[]): tf.Tensor4D | undefined {
  const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
  const padded = layer.padding === 'same' || layer.padding === 'valid';
  return x && x.rank === 4 && layer.dataFormat === 'channelsLast' && padded ? (x as tf.Tensor4D) : undefined;
}

/**
 * Replaces the call() of the tfjs-layers class registered as `className` by `fused` where it
 * returns a tensor, keeping the original call for every other case. Once per class.
 */
function patchCall(className: string, fused: (layer: ConvolutionFields, x: tf.Tensor4D, activation: tf.fused.Activation) => tf.Tensor | undefined): void {
  patchRegisteredClass<{ call: Call }>(className, PATCHED, (prototype) => {
    const original = prototype.call;
    prototype.call = function (this: ConvolutionFields, inputs, kwargs) {
      const x = fusableInput(this, inputs);
      const activation = fusedActivation(this);
      const result = x && activation ? tf.tidy(() => fused(this, x, activation)) : undefined;
      return result ?? original.call(this, inputs, kwargs);
    };
  });
}

/**
 * tfjs-layers leaves some convolutions' bias and activation as separate operations, where Keras's
 * graph fuses them and tfjs-core has fused kernels on every backend (cpu, wasm, webgl, webgpu, and
 * TensorFlow's _FusedConv2D on tensorflow, KERNEL_FIXES.tensorflow):
 * - DepthwiseConv2D runs its convolution, bias and activation as three operations (MobileNetV2 has
 *   17 of them). Here it is tf.fused.depthwiseConv2d. Dilation stays as tfjs-layers has it (none:
 *   the converter refuses a dilated DepthwiseConv2D).
 * - Conv2D fuses relu, elu and linear, but applies relu6 after it (MobileNetV2's 35 expanding
 *   convolutions, once folded: docs/inference-rewrites.md). Here relu6 is fused too.
 * The same values. Under a gradient tape, tfjs-core itself runs the separate operations for a
 * non-linear activation, so gradients are computed as before. channels_first, causal or explicit
 * padding, and activations no fused kernel applies (custom ones, softmax...) keep tfjs-layers' own
 * call. Installed once, when keras-bridge's runtime is imported.
 */
function installFusedConvolutions(): void {
  patchCall('DepthwiseConv2D', (layer, x, activation) =>
    tf.fused.depthwiseConv2d({
      x,
      filter: layer.depthwiseKernel!.read() as tf.Tensor4D,
      strides: layer.strides as [number, number],
      pad: layer.padding as 'same' | 'valid',
      dataFormat: 'NHWC',
      bias: layer.useBias && layer.bias ? layer.bias.read() : undefined,
      activation,
    }),
  );
  // Conv2D's own call already fuses the others.
  patchCall('Conv2D', (layer, x, activation) =>
    layer.rank !== 2 || activation !== 'relu6'
      ? undefined
      : tf.fused.conv2d({
          x,
          filter: layer.kernel!.read() as tf.Tensor4D,
          strides: layer.strides as [number, number],
          pad: layer.padding as 'same' | 'valid',
          dataFormat: 'NHWC',
          dilations: layer.dilationRate as [number, number],
          bias: layer.useBias && layer.bias ? layer.bias.read() : undefined,
          activation,
        }),
  );
}

installFusedConvolutions();
