import tf from '#tfjs';
import { Conv1DLayer, type Conv1DLayerArgs } from './conv1d-layer.js';
import { asImage, convOutputLength, dilatedImageKernel, fromImage } from './conv1d-support.js';
import { WeightSettings, type TfjsObjectArg } from './tfjs-objects.js';

export interface KerasConv1DArgs extends Conv1DLayerArgs {
  filters: number;
  kernelInitializer?: TfjsObjectArg;
  kernelRegularizer?: TfjsObjectArg;
  kernelConstraint?: TfjsObjectArg;
}

/**
 * Keras 3's Conv1D where tfjs-layers' falls short: padding='causal' (which tfjs refuses: the input
 * is padded on the left with (kernel_size - 1) * dilation_rate zeros, then convolved 'valid', so
 * that output t sees inputs up to t only), channels_first (whose output tfjs leaves transposed) and
 * dilation (which tfjs cannot differentiate; spelled out here as a zero-filled kernel). Weights as
 * Keras's Conv1D: kernel [k, in, filters], then bias.
 */
export class KerasConv1D extends Conv1DLayer {
  static readonly className = 'KerasConv1D';
  readonly filters: number;
  readonly causal: boolean;
  private readonly kernelSettings: WeightSettings;
  private kernel!: tf.LayerVariable;

  constructor(args: Omit<KerasConv1DArgs, 'padding'> & { padding?: string } & Record<string, unknown>) {
    const causal = args.padding === 'causal';
    // Causal: the base class convolves 'valid' after our left padding.
    super({ ...args, padding: causal ? 'valid' : (args.padding as KerasConv1DArgs['padding']) });
    this.causal = causal;
    this.filters = args.filters;
    this.kernelSettings = WeightSettings.read(this, args, 'kernel', 'glorotUniform');
  }

  protected override buildWeights(channels: number): void {
    const { initializer, regularizer, constraint } = this.kernelSettings;
    this.kernel = this.addWeight('kernel', [this.kernelSize, channels, this.filters], 'float32', initializer, regularizer, true, constraint);
    this.addBias(this.filters);
  }

  protected override convolve(x: tf.Tensor): tf.Tensor {
    const left = this.causal ? (this.kernelSize - 1) * this.dilationRate : 0;
    const padded = left > 0 ? tf.pad(x, [[0, 0], [left, 0], [0, 0]]) : x;
    // [k, in, out] → [1, k', in, out], dilation spelled out as zeros (tfjs cannot differentiate dilated convolutions).
    const kernel = dilatedImageKernel(this.kernel.read(), this.dilationRate);
    return fromImage(tf.conv2d(asImage(padded), kernel, [1, this.strides], this.padding));
  }

  protected override outputChannels(): number {
    return this.filters;
  }

  protected override outputLength(length: number | null): number | null {
    if (this.causal) return length === null ? null : Math.floor((length - 1) / this.strides) + 1;
    return convOutputLength(length, this.kernelSize, this.strides, this.padding, this.dilationRate);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, padding: this.causal ? 'causal' : this.padding, ...this.kernelSettings.config() };
  }
}
tf.serialization.registerClass(KerasConv1D);
