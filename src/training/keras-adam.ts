import tf from '#tfjs';

export interface KerasAdamArgs {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam exactly as Keras 3 computes it (keras/src/optimizers/adam.py), for training a converted
 * model the way the Keras original trains. At step t (1-based), for each variable w with gradient g:
 *
 *   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *   m += (g - m) * (1 - beta1);   v += (g² - v) * (1 - beta2)
 *   w -= m * alpha / (sqrt(v) + epsilon)
 *
 * tfjs's tf.train.adam computes w -= lr * m̂ / (sqrt(v̂) + epsilon) with the bias-corrected m̂, v̂:
 * the same update with epsilon * sqrt(1 - beta2^t) in Keras's place of epsilon, so tfjs's
 * epsilon is about 30 times smaller at step 1 (beta2 0.999). Where |g| is not far above epsilon,
 * the two differ by a sizeable fraction of the step (docs/tolerances.md has measured figures).
 * Moments are kept per variable name; the defaults are Keras's.
 */
export class KerasAdam extends tf.Optimizer {
  static get className(): string {
    return 'KerasAdam';
  }
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();

  constructor(args: KerasAdamArgs = {}) {
    super();
    this.learningRate = args.learningRate ?? 0.001;
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>): void {
    const gradients: Array<[string, tf.Tensor]> = Array.isArray(variableGradients)
      ? variableGradients.map(({ name, tensor }) => [name, tensor])
      : Object.entries(variableGradients);
    tf.tidy(() => {
      // As Keras: every constant cast to the variable's dtype (float32) before it meets a tensor.
      const step = tf.scalar(this.iterations + 1);
      const beta1Power = tf.pow(tf.scalar(this.beta1), step);
      const beta2Power = tf.pow(tf.scalar(this.beta2), step);
      const alpha = tf.div(tf.mul(tf.scalar(this.learningRate), tf.sqrt(tf.sub(1, beta2Power))), tf.sub(1, beta1Power));
      for (const [name, gradient] of gradients) {
        const variable = tf.engine().registeredVariables[name];
        if (!variable) throw new Error(`KerasAdam: no variable named '${name}' to apply a gradient to.`);
        const { m, v } = this.momentsOf(name, variable);
        m.assign(tf.add(m, tf.mul(tf.sub(gradient, m), 1 - this.beta1)));
        v.assign(tf.add(v, tf.mul(tf.sub(tf.square(gradient), v), 1 - this.beta2)));
        variable.assign(tf.sub(variable, tf.div(tf.mul(m, alpha), tf.add(tf.sqrt(v), this.epsilon))));
      }
    });
    this.incrementIterations();
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config as KerasAdamArgs);
  }

  private momentsOf(name: string, variable: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    let moments = this.moments.get(name);
    if (!moments) {
      moments = tf.tidy(() => ({ m: tf.zerosLike(variable).variable(false), v: tf.zerosLike(variable).variable(false) }));
      this.moments.set(name, moments);
    }
    return moments;
  }
}
tf.serialization.registerClass(KerasAdam);
