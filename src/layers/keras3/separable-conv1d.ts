import tf from '#tfjs';
import { Conv1DLayer, type Conv1DLayerArgs } from './conv1d-layer.js';
import { asImage, convOutputLength, dilatedImageKernel, fromImage } from './conv1d-support.js';
import { WeightSettings, type TfjsObjectArg } from './tfjs-objects.js';

export interface KerasSeparableConv1DArgs extends Conv1DLayerArgs {
  filters: number;
  depthMultiplier?: number;
  depthwiseInitializer?: TfjsObjectArg;
  depthwiseRegularizer?: TfjsObjectArg;
  depthwiseConstraint?: TfjsObjectArg;
  pointwiseInitializer?: TfjsObjectArg;
  pointwiseRegularizer?: TfjsObjectArg;
  pointwiseConstraint?: TfjsObjectArg;
}

/**
 * Keras 3's SeparableConv1D: a depthwise convolution, then a 1x1 convolution to `filters`
 * channels, as tf.nn.separable_conv2d over a height of 1. Weights, in Keras's order:
 * depthwise_kernel [k, channels, depth_multiplier], pointwise_kernel [1, channels *
 * depth_multiplier, filters], bias [filters].
 */
export class KerasSeparableConv1D extends Conv1DLayer {
  static readonly className = 'KerasSeparableConv1D';
  readonly filters: number;
  readonly depthMultiplier: number;
  private readonly depthwiseSettings: WeightSettings;
  private readonly pointwiseSettings: WeightSettings;
  private depthwiseKernel!: tf.LayerVariable;
  private pointwiseKernel!: tf.LayerVariable;

  constructor(args: KerasSeparableConv1DArgs & Record<string, unknown>) {
    super(args);
    this.filters = args.filters;
    this.depthMultiplier = args.depthMultiplier ?? 1;
    this.depthwiseSettings = WeightSettings.read(this, args, 'depthwise', 'glorotUniform');
    this.pointwiseSettings = WeightSettings.read(this, args, 'pointwise', 'glorotUniform');
  }

  protected override buildWeights(channels: number): void {
    const depthwise = this.depthwiseSettings;
    this.depthwiseKernel = this.addWeight(
      'depthwise_kernel',
      [this.kernelSize, channels, this.depthMultiplier],
      'float32',
      depthwise.initializer,
      depthwise.regularizer,
      true,
      depthwise.constraint,
    );
    const pointwise = this.pointwiseSettings;
    this.pointwiseKernel = this.addWeight(
      'pointwise_kernel',
      [1, channels * this.depthMultiplier, this.filters],
      'float32',
      pointwise.initializer,
      pointwise.regularizer,
      true,
      pointwise.constraint,
    );
    this.addBias(this.filters);
  }

  protected override convolve(x: tf.Tensor): tf.Tensor {
    const depthwise = dilatedImageKernel(this.depthwiseKernel.read(), this.dilationRate);
    const pointwise = tf.expandDims(this.pointwiseKernel.read(), 0) as tf.Tensor4D;
    return fromImage(tf.separableConv2d(asImage(x), depthwise, pointwise, [1, this.strides], this.padding));
  }

  protected override outputChannels(): number {
    return this.filters;
  }

  protected override outputLength(length: number | null): number | null {
    return convOutputLength(length, this.kernelSize, this.strides, this.padding, this.dilationRate);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      depthMultiplier: this.depthMultiplier,
      ...this.depthwiseSettings.config(),
      ...this.pointwiseSettings.config(),
    };
  }
}
tf.serialization.registerClass(KerasSeparableConv1D);
