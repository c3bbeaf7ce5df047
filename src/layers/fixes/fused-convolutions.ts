import tf from '#tfjs';
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
 * non-linear activation, so gradients are computed as before; a linear one runs as the fused
 * kernel, recorded with a gradient per input (recordedWithBias; without a bias, the convolution
 * alone), so that an input nothing differentiates gets no gradient. channels_first, causal or
 * explicit padding, and activations no fused kernel applies (custom ones, softmax...) keep tfjs-layers' own
 * call. Installed once, when keras-bridge's runtime is imported.
 */
function installFusedConvolutions(): void {
  patchCall('DepthwiseConv2D', (layer, x, activation) => {
    const filter = layer.depthwiseKernel!.read() as tf.Tensor4D;
    const [strides, pad] = [layer.strides as [number, number], layer.padding as 'same' | 'valid'];
    const bias = layer.useBias && layer.bias ? layer.bias.read() : undefined;
    if (activation === 'linear' && underGradientTape()) return bias ? recordedWithBias('FusedDepthwiseConv2D', x, filter, bias, { strides, pad, dilations: 1 }) : tf.depthwiseConv2d(x, filter, strides, pad, 'NHWC');
    return tf.fused.depthwiseConv2d({ x, filter, strides, pad, dataFormat: 'NHWC', bias, activation });
  });
  patchCall('Conv2D', (layer, x, activation) => {
    if (layer.rank !== 2) return undefined;
    const filter = layer.kernel!.read() as tf.Tensor4D;
    const [strides, pad, dilations] = [layer.strides as [number, number], layer.padding as 'same' | 'valid', layer.dilationRate as [number, number]];
    const bias = layer.useBias && layer.bias ? layer.bias.read() : undefined;
    if (activation === 'linear' && underGradientTape()) return bias ? recordedWithBias('FusedConv2D', x, filter, bias, { strides, pad, dilations }) : tf.conv2d(x, filter, strides, pad, 'NHWC', dilations);
    // Conv2D's own call already fuses the others.
    if (activation !== 'relu6') return undefined;
    return tf.fused.conv2d({ x, filter, strides, pad, dataFormat: 'NHWC', dilations, bias, activation });
  });
}

/**
 * Whether a gradient tape records (tf.grads, tf.variableGrads, model.fit). There, tfjs-core's fused
 * convolution with a linear activation differentiates through one custom gradient that computes the
 * input's gradient and the filter's together, even where nothing needs the input's: a model's first
 * convolution under model.fit or weight gradients (ResNet50's 7x7 stem: 141 ms of 1.66 s on wasm
 * at batch 1). Here the fused kernel is recorded itself (recordedWithBias), with a gradient per
 * input, so that each is computed only where it is needed (tfjs-core runs separate operations
 * itself for a non-linear activation under a tape).
 */
function underGradientTape(): boolean {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}

type FusedKernel = 'FusedConv2D' | 'FusedDepthwiseConv2D';

/**
 * The backend's fused convolution with a bias and no activation, run as a kernel the tape records:
 * the convolution and its bias in one pass. As a convolution and an add, the add was a second pass
 * over every convolution's output under a tape, and kept that output to the backward pass (ResNet50
 * forward+backward at batch 8 on wasm: 53 adds). Its gradients are FUSED_CONVOLUTION_GRADIENTS'.
 */
function recordedWithBias(kernel: FusedKernel, x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor, geometry: { strides: [number, number]; pad: 'same' | 'valid'; dilations: number | [number, number] }): tf.Tensor {
  const attrs = { ...geometry, dataFormat: 'NHWC', dimRoundingMode: undefined, activation: 'linear', leakyreluAlpha: 0 };
  return tf.engine().runKernel(kernel, { x, filter, bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** The unfused kernel whose gradient (tfjs-core's, or a kernel fix's) gives a fused kernel's input and filter gradients. */
const UNFUSED: Readonly<Record<FusedKernel, string>> = { FusedConv2D: 'Conv2D', FusedDepthwiseConv2D: 'DepthwiseConv2dNative' };

/**
 * Gradients of the fused kernels as recordedWithBias runs them (a linear activation): the input's
 * and the filter's are the unfused convolution's gradient (its attributes are the fused kernel's),
 * the bias's the sum of dy over the axes it is broadcast along, as an add's gradient computes it.
 * Each only where asked for. tfjs-core records no such node itself: its fused operations run the
 * kernel inside a custom gradient, which the tape records instead.
 */
const FUSED_CONVOLUTION_GRADIENTS: readonly tf.GradConfig[] = (Object.keys(UNFUSED) as FusedKernel[]).map((kernelName) => ({
  kernelName,
  inputsToSave: ['x', 'filter', 'bias'],
  gradFunc: (incoming, saved, attrs) => {
    const dy = incoming as tf.Tensor;
    const [x, filter, bias] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    if (attrs['activation'] !== 'linear') throw new Error(`keras-bridge's gradient of ${kernelName} covers a linear activation only, not '${String(attrs['activation'])}'`);
    const unfused = tf.getGradient(UNFUSED[kernelName])!.gradFunc(dy, [x, filter], attrs);
    return {
      x: unfused['x']!,
      filter: unfused['filter']!,
      bias: () => {
        const axes = tf.backend_util.getReductionAxes(bias.shape, dy.shape);
        return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, bias.shape);
      },
    };
  },
}));

installFusedConvolutions();
for (const gradient of FUSED_CONVOLUTION_GRADIENTS) tf.registerGradient(gradient);
