import tf from '#tfjs';
import { badField } from '../layer-errors.js';
import { convOutputLength } from './conv1d-support.js';
import { groupedConvolution } from './grouped-convolution.js';
import { singleShape, singleTensor } from './single-input.js';
import type { DataFormat } from './spatial-axes.js';
import { activationNamed, WeightSettings, type TfjsActivation, type TfjsObjectArg } from './tfjs-objects.js';

export interface KerasGroupedConvArgs {
  filters: number;
  groups: number;
  kernelSize: number | number[];
  strides?: number | number[];
  /** 'causal' for Conv1D only, as Keras. */
  padding?: 'valid' | 'same' | 'causal';
  dataFormat?: DataFormat;
  dilationRate?: number | number[];
  activation?: string | null;
  useBias?: boolean;
  kernelInitializer?: TfjsObjectArg;
  kernelRegularizer?: TfjsObjectArg;
  kernelConstraint?: TfjsObjectArg;
  biasInitializer?: TfjsObjectArg;
  biasRegularizer?: TfjsObjectArg;
  biasConstraint?: TfjsObjectArg;
}

type Args = KerasGroupedConvArgs & Record<string, unknown>;

/** One value per spatial axis, from Keras's tuple or a single number. */
function perAxis(value: number | number[] | undefined, rank: number, fallback: number): number[] {
  if (value === undefined || value === null) return Array<number>(rank).fill(fallback);
  return Array.isArray(value) ? [...value] : Array<number>(rank).fill(value);
}

/**
 * Keras 3's Conv1D, Conv2D and Conv3D with groups > 1, which tfjs-layers lacks: filters split
 * into `groups` groups, each convolving its own in_channels / groups input channels
 * (groupedConvolution). Weights as Keras's: kernel [..kernel_size, in_channels / groups, filters],
 * then bias [filters]. The input is made channels last, convolved, the bias added and the
 * activation applied, then put back in its data format, as Keras's BaseConv does.
 */
abstract class KerasGroupedConv extends tf.layers.Layer {
  readonly filters: number;
  readonly groups: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: 'valid' | 'same' | 'causal';
  readonly dataFormat: DataFormat;
  readonly dilationRate: number[];
  readonly useBias: boolean;
  private readonly activation: TfjsActivation;
  private readonly kernelSettings: WeightSettings;
  private readonly biasSettings: WeightSettings;
  private kernel!: tf.LayerVariable;
  private bias: tf.LayerVariable | null = null;

  constructor(
    private readonly rank: 1 | 2 | 3,
    args: Args,
  ) {
    super(args as object);
    this.filters = args.filters;
    this.groups = args.groups;
    this.kernelSize = perAxis(args.kernelSize, rank, 1);
    this.strides = perAxis(args.strides, rank, 1);
    this.padding = args.padding ?? 'valid';
    this.dataFormat = args.dataFormat ?? 'channelsLast';
    this.dilationRate = perAxis(args.dilationRate, rank, 1);
    this.useBias = args.useBias ?? true;
    this.activation = activationNamed(this, 'activation', args.activation);
    this.kernelSettings = WeightSettings.read(this, args, 'kernel', 'glorotUniform');
    this.biasSettings = WeightSettings.read(this, args, 'bias', 'zeros');
    this.validate();
  }

  /** What Keras's BaseConv refuses, refused here too rather than computed differently. */
  private validate(): void {
    if (!Number.isInteger(this.groups) || this.groups < 1) {
      throw badField(this, 'groups', `${JSON.stringify(this.groups)} is not a positive integer.`);
    }
    if (!Number.isInteger(this.filters) || this.filters < 1 || this.filters % this.groups !== 0) {
      throw badField(this, 'filters', `${this.filters} filters cannot be split into groups=${this.groups} equal groups.`);
    }
    if (this.padding === 'causal' ? this.rank !== 1 : this.padding !== 'valid' && this.padding !== 'same') {
      throw badField(this, 'padding', `'${String(this.padding)}' is not supported (valid, same, or causal for 1D).`);
    }
    for (const [field, values] of [['kernel_size', this.kernelSize], ['strides', this.strides], ['dilation_rate', this.dilationRate]] as const) {
      if (values.length !== this.rank) throw badField(this, field, `${JSON.stringify(values)} does not have ${this.rank} entries.`);
    }
    if (Math.max(...this.strides) > 1 && Math.max(...this.dilationRate) > 1) {
      throw badField(this, 'dilation_rate', `strides and dilation_rate cannot both be greater than 1 (Keras refuses it too).`);
    }
  }

  private channelAxis(rank: number): number {
    return this.dataFormat === 'channelsFirst' ? 1 : rank - 1;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const channels = shape[this.channelAxis(shape.length)];
    if (channels === null || channels === undefined || channels % this.groups !== 0) {
      throw badField(this, 'groups', `the input's ${channels ?? 'unknown'} channels cannot be split into groups=${this.groups} equal groups.`);
    }
    const kernel = this.kernelSettings;
    const kernelShape = [...this.kernelSize, channels / this.groups, this.filters];
    this.kernel = this.addWeight('kernel', kernelShape, 'float32', kernel.initializer, kernel.regularizer, true, kernel.constraint);
    if (this.useBias) {
      const bias = this.biasSettings;
      this.bias = this.addWeight('bias', [this.filters], 'float32', bias.initializer, bias.regularizer, true, bias.constraint);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = this.toChannelsLast(singleTensor(inputs));
      if (this.padding === 'causal') {
        // Keras pads (kernel_size - 1) * dilation_rate zeros on the left, then convolves 'valid'.
        x = tf.pad(x, [[0, 0], [(this.kernelSize[0]! - 1) * this.dilationRate[0]!, 0], [0, 0]]);
      }
      const padding = this.padding === 'causal' ? 'valid' : this.padding;
      let y = groupedConvolution(x, this.kernel.read(), this.groups, { strides: this.strides, padding, dilations: this.dilationRate });
      if (this.bias) y = tf.add(y, this.bias.read());
      return this.fromChannelsLast(this.activation.apply(y));
    });
  }

  private toChannelsLast(x: tf.Tensor): tf.Tensor {
    if (this.dataFormat === 'channelsLast') return x;
    return tf.transpose(x, [0, ...Array.from({ length: this.rank }, (_, i) => i + 2), 1]);
  }

  private fromChannelsLast(x: tf.Tensor): tf.Tensor {
    if (this.dataFormat === 'channelsLast') return x;
    return tf.transpose(x, [0, this.rank + 1, ...Array.from({ length: this.rank }, (_, i) => i + 1)]);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = singleShape(inputShape);
    const first = this.dataFormat === 'channelsFirst' ? 2 : 1;
    const spatial = this.kernelSize.map((k, i) => {
      const length = shape[first + i] ?? null;
      // Causal: padded so that the 'valid' convolution has 'same''s length.
      const padding = this.padding === 'causal' ? 'same' : this.padding;
      return convOutputLength(length, k, this.strides[i]!, padding, this.dilationRate[i]!);
    });
    return this.dataFormat === 'channelsFirst' ? [shape[0]!, this.filters, ...spatial] : [shape[0]!, ...spatial, this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      groups: this.groups,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
      activation: this.activation.getClassName(),
      useBias: this.useBias,
      ...this.kernelSettings.config(),
      ...this.biasSettings.config(),
    };
  }
}

export class KerasGroupedConv1D extends KerasGroupedConv {
  static readonly className = 'KerasGroupedConv1D';
  constructor(args: Args) {
    super(1, args);
  }
}
tf.serialization.registerClass(KerasGroupedConv1D);

export class KerasGroupedConv2D extends KerasGroupedConv {
  static readonly className = 'KerasGroupedConv2D';
  constructor(args: Args) {
    super(2, args);
  }
}
tf.serialization.registerClass(KerasGroupedConv2D);

export class KerasGroupedConv3D extends KerasGroupedConv {
  static readonly className = 'KerasGroupedConv3D';
  constructor(args: Args) {
    super(3, args);
  }
}
tf.serialization.registerClass(KerasGroupedConv3D);
