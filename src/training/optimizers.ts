import tf from '#tfjs';
import type { OptimizerRunRecord } from '../keras/bundle-manifest.js';
import { KerasAdam } from './keras-adam.js';

/** A TypeScript optimizer that replays a Keras optimizer's steps. */
export interface OptimizerImplementation {
  /** "tfjs tf.train.sgd", "keras-bridge KerasAdam", ... */
  name: string;
  /** false: a known difference from Keras, reported with its numbers but not part of pass/fail. */
  counted: boolean;
  note?: string;
  create(): tf.Optimizer;
}

/** Keras's options that keras-bridge's optimizers do not reproduce, with the value that is fine. */
const DEFAULT_OPTIONS: Record<string, unknown> = {
  weight_decay: null,
  clipnorm: null,
  global_clipnorm: null,
  clipvalue: null,
  use_ema: false,
  loss_scale_factor: null,
  gradient_accumulation_steps: null,
};

const BUILDERS: Record<string, { options: Record<string, unknown>; implementations(config: Record<string, unknown>): OptimizerImplementation[] }> = {
  // Keras's SGD without momentum is w - g * lr, tfjs's w + (-lr) * g: the same rounding.
  SGD: {
    options: { momentum: 0, nesterov: false },
    implementations: (config) => [{ name: 'tfjs tf.train.sgd', counted: true, create: () => tf.train.sgd(number(config, 'learning_rate')) }],
  },
  Adam: {
    options: { amsgrad: false },
    implementations: (config) => {
      const args = { learningRate: number(config, 'learning_rate'), beta1: number(config, 'beta_1'), beta2: number(config, 'beta_2'), epsilon: number(config, 'epsilon') };
      return [
        { name: 'keras-bridge KerasAdam', counted: true, create: () => new KerasAdam(args) },
        {
          name: 'tfjs tf.train.adam',
          counted: false,
          note: "informational: tfjs applies epsilon after bias correction, Keras 3 before (keras-bridge's KerasAdam is the one checked)",
          create: () => tf.train.adam(args.learningRate, args.beta1, args.beta2, args.epsilon),
        },
      ];
    },
  },
};

/** The implementations to run for an optimizer the exporter used, or why none can. */
export function optimizerImplementations(run: OptimizerRunRecord): { implementations: OptimizerImplementation[]; unsupported: string | null } {
  const builder = BUILDERS[run.class_name];
  if (!builder) return { implementations: [], unsupported: `no TypeScript counterpart for Keras optimizer ${run.class_name}` };
  for (const [option, fine] of Object.entries({ ...DEFAULT_OPTIONS, ...builder.options })) {
    const value = run.config[option] ?? null;
    if (value !== fine) return { implementations: [], unsupported: `${run.class_name}(${option}=${JSON.stringify(value)}) is not reproduced (only ${JSON.stringify(fine)})` };
  }
  return { implementations: builder.implementations(run.config), unsupported: null };
}

function number(config: Record<string, unknown>, key: string): number {
  const value = config[key];
  if (typeof value !== 'number') throw new Error(`optimizer config: '${key}' is ${JSON.stringify(value)}, expected a number`);
  return value;
}
