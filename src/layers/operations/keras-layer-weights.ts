import tf from '#tfjs';

export interface KerasLayerWeightSpec {
  /** The weight's Keras name (the last part of its path): tfjs names it `<layer name>/<name>`. */
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  trainable: boolean;
}

export interface KerasLayerWeightsArgs {
  name?: string;
  weights: KerasLayerWeightSpec[];
}

/**
 * The weights a re-traced custom layer made in its own build() (self.kernel), as a node of the
 * traced graph: output k is weight k. Keras's trace freezes such a variable into a constant; here it
 * stays a trainable tfjs weight, so it is loaded from the bundle, differentiated and trained. The
 * layer is named by the weights' Keras path (`temporal_weighting`), so that tfjs names them as Keras
 * does (`temporal_weighting/kernel`) and they pair with the bundle's by name. Its input is only there
 * because a tfjs node needs one: the graph's first input, unread.
 */
export class KerasLayerWeights extends tf.layers.Layer {
  static readonly className = 'KerasLayerWeights';
  readonly specs: KerasLayerWeightSpec[];

  constructor(args: KerasLayerWeightsArgs) {
    super({ name: args.name });
    this.specs = args.weights;
  }

  override build(): void {
    for (const spec of this.specs) {
      this.addWeight(spec.name, spec.shape, spec.dtype, tf.initializers.zeros(), undefined, spec.trainable);
    }
    this.built = true;
  }

  override call(): tf.Tensor[] {
    // A copy: tfjs disposes a layer's outputs once they are consumed, and must never dispose the variable.
    return this.weights.map((w) => tf.clone(w.read()));
  }

  override computeOutputShape(): tf.Shape[] {
    return this.specs.map((s) => s.shape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), weights: this.specs as unknown as tf.serialization.ConfigDictValue };
  }
}
tf.serialization.registerClass(KerasLayerWeights);
