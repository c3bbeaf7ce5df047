import tf from '#tfjs';
import { Conv1DLayer, type Conv1DLayerArgs } from './conv1d-layer.js';
import { asImage, convOutputLength, dilatedImageKernel, fromImage } from './conv1d-support.js';
import { WeightSettings, type TfjsObjectArg } from './tfjs-objects.js';

export interface KerasDepthwiseConv1DArgs extends Conv1DLayerArgs {
  depthMultiplier?: number;
  depthwiseInitializer?: TfjsObjectArg;
  depthwiseRegularizer?: TfjsObjectArg;
  depthwiseConstraint?: TfjsObjectArg;
}

/**
 * Keras 3's DepthwiseConv1D: each input channel convolved with its own depth_multiplier filters,
 * output channel c * depth_multiplier + m, as tf.nn.depthwise_conv2d over a height of 1 (what
 * Keras's TensorFlow backend runs). Weights: kernel [k, channels, depth_multiplier], then bias
 * [channels * depth_multiplier].
 */
export class KerasDepthwiseConv1D extends Conv1DLayer {
  static readonly className = 'KerasDepthwiseConv1D';
  readonly depthMultiplier: number;
  private readonly kernelSettings: WeightSettings;
  private kernel!: tf.LayerVariable;

  constructor(args: KerasDepthwiseConv1DArgs & Record<string, unknown>) {
    super(args);
    this.depthMultiplier = args.depthMultiplier ?? 1;
    this.kernelSettings = WeightSettings.read(this, args, 'depthwise', 'glorotUniform');
  }

  protected override buildWeights(channels: number): void {
    const { initializer, regularizer, constraint } = this.kernelSettings;
    this.kernel = this.addWeight('kernel', [this.kernelSize, channels, this.depthMultiplier], 'float32', initializer, regularizer, true, constraint);
    this.addBias(channels * this.depthMultiplier);
  }

  protected override convolve(x: tf.Tensor): tf.Tensor {
    const kernel = dilatedImageKernel(this.kernel.read(), this.dilationRate);
    return fromImage(tf.depthwiseConv2d(asImage(x), kernel, [1, this.strides], this.padding));
  }

  protected override outputChannels(inputChannels: number): number {
    return inputChannels * this.depthMultiplier;
  }

  protected override outputLength(length: number | null): number | null {
    return convOutputLength(length, this.kernelSize, this.strides, this.padding, this.dilationRate);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), depthMultiplier: this.depthMultiplier, ...this.kernelSettings.config() };
  }
}
tf.serialization.registerClass(KerasDepthwiseConv1D);
