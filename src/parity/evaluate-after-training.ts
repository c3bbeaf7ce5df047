import { disposeModel } from './dispose-model.js';
import { releaseAbandonedTape } from './abandoned-tape.js';
import tf from '#tfjs';
import type { Bundle } from '../keras/bundle.js';
import { weightsInKerasOrder } from '../convert/weight-pairing.js';
import type { OptimizerRunRecord } from '../keras/bundle-manifest.js';
import { optimizerImplementations, type OptimizerImplementation } from '../training/optimizers.js';
import { findLayer, goldenInputs, goldenKey, goldenLoss, read, type ComputedTensor } from './evaluate-model.js';
import { explainMissingGradient, GradientUnavailableError } from './missing-gradient.js';

/** One optimizer implementation's run of the bundle's steps. */
export interface OptimizerEvaluation {
  /** The exporter's name for the Keras optimizer: "sgd", "adam". */
  optimizer: string;
  /** Which TypeScript optimizer ran: "tfjs tf.train.sgd", "keras-bridge KerasAdam", ... */
  implementation: string;
  counted: boolean;
  note: string | null;
  /** Keyed by goldenKey() of the run's trained_weight goldens. */
  computed: Map<string, ComputedTensor>;
  /** The loss before each step, as tfjs computed it. */
  losses: number[];
  /** Why this optimizer could not be run, or null. */
  notCompared: string | null;
}

export interface AfterTrainingEvaluation {
  steps: number;
  /** Why the exporter recorded no runs, or null. */
  skipped: string | null;
  runs: OptimizerEvaluation[];
}

/**
 * Parity after training: for each optimizer run in the bundle, a freshly loaded converted model
 * takes the same number of steps on the bundle's loss (training=false, golden inputs and
 * cotangents) with the TypeScript optimizer(s) that stand for the Keras one, and its trainable
 * weights are read back. null when the bundle has no after-training goldens.
 */
export async function evaluateAfterTraining(loadModel: () => Promise<tf.LayersModel>, bundle: Bundle): Promise<AfterTrainingEvaluation | null> {
  const section = bundle.manifest.goldens.after_training;
  if (!section) return null;
  if ('skipped' in section) return { steps: section.steps, skipped: section.skipped, runs: [] };
  const runs: OptimizerEvaluation[] = [];
  for (const run of section.runs) {
    const { implementations, unsupported } = optimizerImplementations(run);
    if (unsupported) {
      runs.push({ optimizer: run.optimizer, implementation: run.class_name, counted: true, note: null, computed: new Map(), losses: [], notCompared: unsupported });
      continue;
    }
    for (const implementation of implementations) runs.push(await train(await loadModel(), bundle, run, implementation, section.steps));
  }
  return { steps: section.steps, skipped: null, runs };
}

async function train(model: tf.LayersModel, bundle: Bundle, run: OptimizerRunRecord, implementation: OptimizerImplementation, steps: number): Promise<OptimizerEvaluation> {
  const optimizer = implementation.create();
  const { inputs, cotangents } = goldenInputs(bundle);
  const computed = new Map<string, ComputedTensor>();
  const losses: number[] = [];
  const result = { optimizer: run.optimizer, implementation: implementation.name, counted: implementation.counted, note: implementation.note ?? null, computed, losses };
  try {
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let step = 0; step < steps; step++) {
      // In tidy: a backward pass that throws leaves its forward result to be disposed (releaseAbandonedTape: the rest).
      const cost = tf.tidy(() => optimizer.minimize(() => goldenLoss(model, inputs, cotangents, false), true, variables)!);
      losses.push((await cost.data())[0]!);
      cost.dispose();
      applyConstraints(model);
    }
    for (const g of run.tensors) computed.set(goldenKey(g), await read(weightsInKerasOrder(findLayer(model, g.layer, bundle), bundle)[g.index]!.read()));
  } catch (e) {
    releaseAbandonedTape();
    const explained = await explainMissingGradient(e, model, bundle);
    if (!(explained instanceof GradientUnavailableError)) throw explained;
    return { ...result, computed: new Map(), losses: [], notCompared: explained.reason };
  } finally {
    optimizer.dispose();
    disposeModel(model);
    tf.dispose([...inputs, ...cotangents]);
  }
  return { ...result, notCompared: null };
}

/**
 * Keras's optimizers project each variable with a constraint (NonNeg, MaxNorm, ...) after every
 * step; tfjs's optimizers update the variables directly and never do (tfjs-layers applies a
 * LayerVariable's constraint only when the variable is written through it).
 */
function applyConstraints(model: tf.LayersModel): void {
  for (const weight of model.trainableWeights) {
    const constraint = weight.constraint;
    if (!constraint) continue;
    const projected = tf.tidy(() => constraint.apply(weight.read()));
    (weight.read() as tf.Variable).assign(projected);
    projected.dispose();
  }
}
