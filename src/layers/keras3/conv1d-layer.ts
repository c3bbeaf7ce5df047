import tf from '#tfjs';
import { channelsAndLength, fromChannelsLast, single, toChannelsLast, type DataFormat, type Padding } from './conv1d-support.js';
import { singleShape, singleTensor } from './single-input.js';
import { activationNamed, WeightSettings, type TfjsActivation, type TfjsObjectArg } from './tfjs-objects.js';
import { badField, unsupportedField } from '../layer-errors.js';

export interface Conv1DLayerArgs {
  kernelSize: number | number[];
  strides?: number | number[];
  padding?: Padding;
  dataFormat?: DataFormat;
  dilationRate?: number | number[];
  activation?: string | null;
  useBias?: boolean;
  biasInitializer?: TfjsObjectArg;
  biasRegularizer?: TfjsObjectArg;
  biasConstraint?: TfjsObjectArg;
}

/**
 * The options and the call of Keras 3's 1D convolution layers that tfjs-layers lacks: the input
 * is made channels last, convolved by the subclass, the bias added, the activation applied, and
 * the result put back in the input's data format, as Keras's base conv layers do.
 */
export abstract class Conv1DLayer extends tf.layers.Layer {
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Padding;
  readonly dataFormat: DataFormat;
  readonly dilationRate: number;
  readonly useBias: boolean;
  protected readonly activation: TfjsActivation;
  protected readonly biasSettings: WeightSettings;
  protected bias: tf.LayerVariable | null = null;

  constructor(args: Conv1DLayerArgs & Record<string, unknown>) {
    super(args as object);
    this.kernelSize = single(args.kernelSize, 1);
    this.strides = single(args.strides, 1);
    this.padding = args.padding ?? 'valid';
    this.dataFormat = args.dataFormat ?? 'channelsLast';
    this.dilationRate = single(args.dilationRate, 1);
    this.useBias = args.useBias ?? true;
    this.activation = activationNamed(this, 'activation', args.activation);
    this.biasSettings = WeightSettings.read(this, args, 'bias', 'zeros');
    if (this.padding !== 'valid' && this.padding !== 'same') {
      throw unsupportedField(this, 'padding', `'${String(this.padding)}' is not supported (valid or same)`);
    }
    if (this.strides > 1 && this.dilationRate > 1) {
      throw badField(this, 'strides', `strides ${this.strides} and dilation_rate ${this.dilationRate} cannot both be greater than 1`);
    }
  }

  /** The layer's weights for `channels` input channels, in Keras's order. */
  protected abstract buildWeights(channels: number): void;
  /** Convolves a channels-last input [batch, length, channels] (no bias, no activation). */
  protected abstract convolve(x: tf.Tensor): tf.Tensor;
  protected abstract outputChannels(inputChannels: number): number;
  protected abstract outputLength(length: number | null): number | null;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const { channels } = channelsAndLength(this, singleShape(inputShape), this.dataFormat);
    this.buildWeights(channels);
    this.built = true;
  }

  protected addBias(size: number): void {
    if (!this.useBias) return;
    const { initializer, regularizer, constraint } = this.biasSettings;
    this.bias = this.addWeight('bias', [size], 'float32', initializer, regularizer, true, constraint);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = toChannelsLast(singleTensor(inputs), this.dataFormat);
      let y = this.convolve(x);
      if (this.bias) y = tf.add(y, this.bias.read());
      return fromChannelsLast(this.activation.apply(y), this.dataFormat);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = singleShape(inputShape);
    const { channels, length } = channelsAndLength(this, shape, this.dataFormat);
    const out = [this.outputLength(length), this.outputChannels(channels)];
    return this.dataFormat === 'channelsFirst' ? [shape[0]!, out[1]!, out[0]!] : [shape[0]!, out[0]!, out[1]!];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      kernelSize: [this.kernelSize],
      strides: [this.strides],
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: [this.dilationRate],
      activation: this.activation.getClassName(),
      useBias: this.useBias,
      ...this.biasSettings.config(),
    };
  }
}
