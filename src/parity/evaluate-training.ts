import tf from '#tfjs';
import { bundleGolden, randomDraws, trainingGoldens, type Bundle } from '../keras/bundle.js';
import { weightsInKerasOrder } from '../convert/weight-pairing.js';
import { ReplayMismatchError } from '../training/replayable-random.js';
import { TrainingReplay } from '../training/training-replay.js';
import { findLayer, forward, goldenInputs, goldenKey, gradientsOrWhyNot, read, type ComputedTensor } from './evaluate-model.js';
import { goldenTensor } from './golden-tensor.js';

export interface TrainingModeEvaluation {
  /** Keyed by goldenKey() of the training section's goldens. */
  computed: Map<string, ComputedTensor>;
  /** Why the training-mode goldens cannot be compared here (random draws that were not replayed), or null. */
  notReplayed: string | null;
  /** Random draws the exporter recorded (and, unless notReplayed, this run replayed). */
  draws: number;
  /** Why the training-mode gradients were not computed (a layer tfjs cannot differentiate), else null; absent from older pages. */
  gradientsNotCompared?: string | null;
}

/**
 * Training mode: the converted model called with training=true on the golden inputs, its random
 * draws replayed from the bundle (training-replay.ts): every layer output, the outputs, the
 * non-trainable weights after the pass (BatchNormalization's moving statistics) and the gradients
 * of the bundle's loss (or why tfjs could not differentiate it). Weights are put back after each
 * pass. null when the bundle has no training-mode goldens.
 */
export async function evaluateTrainingMode(model: tf.LayersModel, bundle: Bundle): Promise<TrainingModeEvaluation | null> {
  const goldens = trainingGoldens(bundle.manifest);
  if (goldens.length === 0) return null;
  const records = randomDraws(bundle.manifest);
  const draws = records.map((record) => ({ record, values: goldenTensor(bundleGolden(bundle, record)) }));
  const replay = new TrainingReplay(model, draws);
  const saved = model.weights.map((w) => tf.clone(w.read()));
  const restoreWeights = () => model.weights.forEach((w, i) => w.write(saved[i]!));
  const { inputs, cotangents } = goldenInputs(bundle);
  const computed = new Map<string, ComputedTensor>();
  const pass = { goldens, training: true };
  const problems: string[] = [];
  let gradientsNotCompared: string | null = null;
  try {
    replay.newPass();
    await forward(model, bundle, inputs, computed, pass);
    for (const g of goldens) {
      if (g.kind === 'weight_after_pass') computed.set(goldenKey(g), await read(weightsInKerasOrder(findLayer(model, g.layer, bundle), bundle)[g.index]!.read()));
    }
    problems.push(...replay.unusedDraws());
    restoreWeights();
    replay.newPass();
    gradientsNotCompared = await gradientsOrWhyNot(model, bundle, inputs, cotangents, computed, pass);
  } catch (e) {
    if (!(e instanceof ReplayMismatchError)) throw e;
    problems.push(e.message);
  } finally {
    restoreWeights();
    replay.uninstall();
    tf.dispose([...saved, ...inputs, ...cotangents, ...draws.map((d) => d.values)]);
  }
  return { computed, notReplayed: problems.length > 0 ? problems.join('; ') : null, draws: records.length, gradientsNotCompared };
}
