import { REWRITTEN_FOR_INFERENCE } from './rewritten-bundle.js';
import { bundleGolden, bundleWeight, trainingGoldens, type Bundle } from '../keras/bundle.js';
import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { toFloat64 } from '../keras/packed-tensor.js';
import { compareGolden } from './compare-golden.js';
import type { AfterTrainingEvaluation } from './evaluate-after-training.js';
import { goldenKey, isGradient, type ComputedTensor } from './evaluate-model.js';
import type { TrainingModeEvaluation } from './evaluate-training.js';
import { labelOf } from './golden-label.js';
import type { AfterTrainingParity, OptimizerParity, TensorParity, TrainingModeParity } from './parity-result.js';
import type { TolerancePolicy } from './tolerance-policy.js';

/** Training mode's comparison before localization (modes/training.ts adds the first diverging layers). */
export type ComparedTrainingMode = Omit<TrainingModeParity, 'firstDivergingLayer' | 'firstDivergingLayerBackward'>;

/** The training-mode section of a backend's parity, or undefined when the bundle has none. */
export function compareTrainingMode(bundle: Bundle, evaluation: TrainingModeEvaluation | null, backend: string, policy: TolerancePolicy): ComparedTrainingMode | undefined {
  const section = bundle.manifest.goldens.training;
  if (!section) return undefined;
  if ('skipped' in section) return { passed: true, tensors: [], randomDraws: 0, notCompared: section.skipped === REWRITTEN_FOR_INFERENCE ? section.skipped : `the exporter could not record training mode: ${section.skipped}`, gradientsNotCompared: null };
  if (!evaluation) return undefined;
  if (evaluation.notReplayed) return { passed: true, tensors: [], randomDraws: evaluation.draws, notCompared: evaluation.notReplayed, gradientsNotCompared: null };
  const gradientsNotCompared = evaluation.gradientsNotCompared ?? null;
  const tensors = trainingGoldens(bundle.manifest)
    .filter((g) => gradientsNotCompared === null || !isGradient(g))
    .map((g) => compareGolden(g, evaluation.computed.get(goldenKey(g)), toFloat64(bundleGolden(bundle, g)), { backend, policy, label: `training: ${labelOf(g)}` }));
  return { passed: tensors.every((t) => t.comparison.passed), tensors, randomDraws: evaluation.draws, notCompared: null, gradientsNotCompared };
}

/**
 * The after-training section: each trainable weight's change over the steps (after - before, the
 * before being the bundle's weights) in tfjs against the same in Keras, so that rtol is relative
 * to what training moved and not to the weight's size.
 */
export function compareAfterTraining(bundle: Bundle, evaluation: AfterTrainingEvaluation | null, backend: string, policy: TolerancePolicy): AfterTrainingParity | undefined {
  const section = bundle.manifest.goldens.after_training;
  if (!section || !evaluation) return undefined;
  if (evaluation.skipped !== null) return { steps: evaluation.steps, passed: true, optimizers: [], notCompared: evaluation.skipped === REWRITTEN_FOR_INFERENCE ? evaluation.skipped : `the exporter recorded no training runs: ${evaluation.skipped}` };
  const runs = 'runs' in section ? section.runs : [];
  const optimizers = evaluation.runs.map((run): OptimizerParity => {
    const record = runs.find((r) => r.optimizer === run.optimizer)!;
    const prefix = `${run.optimizer} ×${evaluation.steps} (${run.implementation}): `;
    const tensors = run.notCompared
      ? []
      : record.tensors.map((g) => {
          const before = initialWeight(bundle, g);
          const change = (values: ArrayLike<number>) => Float64Array.from(values, (v, i) => v - before[i]!);
          const actual = run.computed.get(goldenKey(g));
          const actualChange = actual ? { shape: actual.shape, values: change(actual.values) } : undefined;
          return compareGolden(g, actualChange, change(toFloat64(bundleGolden(bundle, g))), { backend, policy, label: prefix + labelOf(g) });
        });
    return {
      optimizer: run.optimizer,
      implementation: run.implementation,
      counted: run.counted,
      note: run.note,
      passed: tensors.every((t) => t.comparison.passed),
      tensors,
      losses: { keras: record.losses, tfjs: run.losses },
      notCompared: run.notCompared,
    };
  });
  return { steps: evaluation.steps, passed: optimizers.filter((o) => o.counted).every((o) => o.passed), optimizers, notCompared: null };
}

function initialWeight(bundle: Bundle, g: GoldenTensorRecord): Float64Array {
  const weight = 'layer' in g ? bundle.manifest.weights.find((w) => w.layer === g.layer && w.index === g.index) : undefined;
  if (!weight) throw new Error(`${bundle.dir}: trained weight '${labelOf(g)}' has no initial value in weights.bin`);
  return toFloat64(bundleWeight(bundle, weight));
}
