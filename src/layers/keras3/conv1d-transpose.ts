import tf from '#tfjs';
import { Conv1DLayer, type Conv1DLayerArgs } from './conv1d-layer.js';
import { asImage, dilatedImageKernel, fromImage, type Padding } from './conv1d-support.js';
import { WeightSettings, type TfjsObjectArg } from './tfjs-objects.js';

export interface KerasConv1DTransposeArgs extends Conv1DLayerArgs {
  filters: number;
  outputPadding?: number | number[] | null;
  kernelInitializer?: TfjsObjectArg;
  kernelRegularizer?: TfjsObjectArg;
  kernelConstraint?: TfjsObjectArg;
}

/**
 * Keras 3's Conv1DTranspose, as tf.nn.conv_transpose over a height of 1 with the output length
 * Keras computes (backend_utils._get_output_shape_given_tf_padding). Weights: kernel
 * [k, filters, channels] (Keras's transposed layout), then bias [filters].
 */
export class KerasConv1DTranspose extends Conv1DLayer {
  static readonly className = 'KerasConv1DTranspose';
  readonly filters: number;
  readonly outputPadding: number | null;
  private readonly kernelSettings: WeightSettings;
  private kernel!: tf.LayerVariable;

  constructor(args: KerasConv1DTransposeArgs & Record<string, unknown>) {
    super(args);
    this.filters = args.filters;
    const outputPadding = args.outputPadding;
    this.outputPadding = outputPadding === null || outputPadding === undefined ? null : Array.isArray(outputPadding) ? outputPadding[0]! : outputPadding;
    this.kernelSettings = WeightSettings.read(this, args, 'kernel', 'glorotUniform');
  }

  protected override buildWeights(channels: number): void {
    const { initializer, regularizer, constraint } = this.kernelSettings;
    this.kernel = this.addWeight('kernel', [this.kernelSize, this.filters, channels], 'float32', initializer, regularizer, true, constraint);
    this.addBias(this.filters);
  }

  protected override convolve(x: tf.Tensor): tf.Tensor {
    const kernel = dilatedImageKernel(this.kernel.read(), this.dilationRate);
    const length = this.outputLength(x.shape[1]!)!;
    const image = tf.conv2dTranspose(asImage(x), kernel, [x.shape[0]!, 1, length, this.filters], [1, this.strides], this.padding);
    return fromImage(image);
  }

  protected override outputChannels(): number {
    return this.filters;
  }

  protected override outputLength(length: number | null): number | null {
    return transposeOutputLength(length, this.kernelSize, this.strides, this.padding, this.outputPadding, this.dilationRate);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      outputPadding: this.outputPadding === null ? null : [this.outputPadding],
      ...this.kernelSettings.config(),
    };
  }
}
tf.serialization.registerClass(KerasConv1DTranspose);

/** Keras's output length of a transposed convolution with TensorFlow's padding. */
export function transposeOutputLength(
  length: number | null,
  kernel: number,
  stride: number,
  padding: Padding,
  outputPadding: number | null,
  dilation: number,
): number | null {
  if (length === null) return null;
  const dilated = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return (length - 1) * stride + dilated + (outputPadding ?? Math.max(dilated, stride) - dilated);
  return outputPadding === null ? length * stride : (length - 1) * stride + (dilated % 2) + outputPadding;
}
