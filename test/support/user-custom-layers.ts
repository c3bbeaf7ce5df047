// The TypeScript twins of fixtures/models/custom_layers.py's layers and activation, written as a
// user would: registered with registerLayer() and registerActivation().
import tf from '#tfjs';
import { z } from 'zod';
import { registerActivation } from '../../src/registry/custom-activation-registry.js';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';

type Args = Record<string, unknown> & { name?: string };
const first = (x: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(x) ? x[0]! : x);
const shapeOf = (s: tf.Shape | tf.Shape[]): tf.Shape => (Array.isArray(s[0]) ? s[0] : s) as tf.Shape;

export class TrainScale extends tf.layers.Layer {
  static readonly className = 'TrainScale';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => (kwargs['training'] === true ? tf.mul(first(inputs), 0.8) : tf.clone(first(inputs))));
  }
}

export class GainDense extends tf.layers.Layer {
  static readonly className = 'GainDense';
  readonly units: number;
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;
  private gain!: tf.LayerVariable;

  constructor(args: Args & { units: number }) {
    super(args);
    this.units = args.units;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = shapeOf(inputShape);
    const uniform = tf.initializers.randomUniform({ minval: 0, maxval: 0.5 });
    // Keras's optimizers apply the constraint after every step; parity after training does too.
    this.kernel = this.addWeight('kernel', [shape[shape.length - 1]!, this.units], 'float32', uniform, undefined, true, tf.constraints.nonNeg());
    this.bias = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros());
    this.gain = this.addWeight('gain', [this.units], 'float32', tf.initializers.constant({ value: 1.5 }), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(tf.add(tf.matMul(first(inputs), this.kernel.read()), this.bias.read()), this.gain.read()));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [...shapeOf(inputShape).slice(0, -1), this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

/**
 * Holds Dense, GainDense and LayerNormalization sub-layers. Each is built with apply() on a
 * symbolic input, so that its weights are named block/<sub-layer>/<weight> like Keras's paths;
 * tfjs lists them trainable first (gain last), Keras sub-layer by sub-layer.
 */
export class GainBlock extends tf.layers.Layer {
  static readonly className = 'GainBlock';
  readonly units: number;
  private readonly proj: tf.layers.Layer;
  private readonly inner: GainDense;
  private readonly norm: tf.layers.Layer;

  constructor(args: Args & { units: number }) {
    super(args);
    this.units = args.units;
    this.proj = tf.layers.dense({ units: this.units, activation: 'relu', name: 'proj' });
    this.inner = new GainDense({ units: this.units, name: 'inner' });
    this.norm = tf.layers.layerNormalization({ epsilon: 1e-3, name: 'norm' });
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const h = this.proj.apply(tf.input({ batchShape: shapeOf(inputShape) })) as tf.SymbolicTensor;
    this.inner.apply(h);
    this.norm.apply(h);
    this.built = true;
  }

  override get trainableWeights(): tf.LayerVariable[] {
    return [this.proj, this.inner, this.norm].flatMap((l) => l.trainableWeights);
  }

  override get nonTrainableWeights(): tf.LayerVariable[] {
    return [this.proj, this.inner, this.norm].flatMap((l) => l.nonTrainableWeights);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const h = this.proj.apply(first(inputs)) as tf.Tensor;
      return this.norm.apply(tf.add(h, this.inner.apply(h) as tf.Tensor)) as tf.Tensor;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [shapeOf(inputShape)[0]!, this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

export class GatedMix extends tf.layers.Layer {
  static readonly className = 'GatedMix';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const [a, b] = inputs as tf.Tensor[];
      return [tf.mul(a!, tf.sigmoid(b!)), tf.sub(a!, b!)];
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const a = (inputShape as tf.Shape[])[0]!;
    return [a, a];
  }
}

export class RunningSum extends tf.layers.Layer {
  static readonly className = 'RunningSum';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.cumsum(first(inputs), 1));
  }
}

/** x * gain + offset, both scalar weights (shape []); offset not trainable. */
export class ScalarGain extends tf.layers.Layer {
  static readonly className = 'ScalarGain';
  private gain!: tf.LayerVariable;
  private offset!: tf.LayerVariable;

  override build(): void {
    this.gain = this.addWeight('gain', [], 'float32', tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5 }));
    this.offset = this.addWeight('offset', [], 'float32', tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5 }), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.add(tf.mul(first(inputs), this.gain.read()), this.offset.read()));
  }
}

const serializedObject = z.object({ class_name: z.string(), config: z.record(z.unknown()) }).passthrough();

export function registerUserCustomLayers(): void {
  registerLayer('TrainScale', TrainScale);
  registerLayer('GainDense', GainDense, z.object({ units: z.number().int().positive(), kernel_regularizer: serializedObject.nullable() }));
  registerLayer('GainBlock', GainBlock, z.object({ units: z.number().int().positive() }));
  registerLayer('GatedMix', GatedMix);
  registerLayer('RunningSum', RunningSum);
  registerLayer('ScalarGain', ScalarGain);
  registerActivation('fixtures>scaled_tanh', (x) => tf.mul(1.7159, tf.tanh(tf.mul(0.6666, x))));
}

registerUserCustomLayers();
