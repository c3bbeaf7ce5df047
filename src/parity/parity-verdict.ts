import type { BackendParity, ParityOutcome, TensorParity } from './parity-result.js';

/**
 * Where a tensor was compared. 'end-to-end': the whole model at inference (outputs, layer outputs,
 * gradients); 'layer-alone-forward' / 'layer-alone-backward': each layer run alone on Keras's
 * inputs (and output gradients); 'training': the model called with training=true; 'after-training':
 * each trainable weight's change after the bundle's optimizer steps.
 */
export type ParityMode = 'end-to-end' | 'layer-alone-forward' | 'layer-alone-backward' | 'training' | 'after-training';

/** A compared tensor with its mode; `counted: false` is a known difference reported with its numbers (tfjs's stock Adam), never a failure. */
export interface ComparedTensor {
  mode: ParityMode;
  tensor: TensorParity;
  counted: boolean;
}

/**
 * Something that was not compared, and why. `incomplete`: it keeps the outcome from 'pass' (exit 3,
 * README: gradients tfjs cannot differentiate); otherwise it is reported only (training mode whose
 * draws cannot be replayed keeps exit 0: inference was compared).
 */
export interface NotCompared {
  what: 'gradients' | 'training' | 'training gradients' | 'after training' | 'optimizer' | 'layer-alone gradients';
  reason: string;
  incomplete: boolean;
  /** For 'optimizer': which run ("sgd with tfjs tf.train.sgd"). */
  optimizer?: string;
}

/** The one definition of a backend's pass, fail or incomplete: what every report form and expectParity read. */
export interface BackendVerdict {
  outcome: ParityOutcome;
  /** Every tensor compared, in every mode, in report order. */
  compared: ComparedTensor[];
  /** The counted compared tensors out of tolerance. */
  failures: ComparedTensor[];
  notCompared: NotCompared[];
}

/** The parts of a backend's parity the verdict reads (check-parity calls it before the outcome exists). */
export type VerdictInput = Pick<BackendParity, 'tensors' | 'isolated' | 'training' | 'afterTraining' | 'gradientsNotCompared'>;

/** Every tensor compared on one backend, each with its mode: end to end, each layer alone forward and backward, training, after training. */
export function comparedTensors(b: VerdictInput): ComparedTensor[] {
  const inMode = (mode: ParityMode, tensors: readonly TensorParity[], counted = true) => tensors.map((tensor) => ({ mode, tensor, counted }));
  return [
    ...inMode('end-to-end', b.tensors),
    ...inMode('layer-alone-forward', b.isolated.tensors),
    ...inMode('layer-alone-backward', b.isolated.gradients.tensors),
    ...inMode('training', b.training?.tensors ?? []),
    ...(b.afterTraining?.optimizers ?? []).flatMap((o) => inMode('after-training', o.tensors, o.counted)),
  ];
}

/** What one backend did not compare, and whether each keeps the outcome from 'pass'. */
export function notComparedOn(b: VerdictInput): NotCompared[] {
  const found: NotCompared[] = [];
  if (b.gradientsNotCompared) found.push({ what: 'gradients', reason: b.gradientsNotCompared, incomplete: true });
  if (b.training?.notCompared) found.push({ what: 'training', reason: b.training.notCompared, incomplete: false });
  if (b.training?.gradientsNotCompared) found.push({ what: 'training gradients', reason: b.training.gradientsNotCompared, incomplete: true });
  if (b.afterTraining?.notCompared) found.push({ what: 'after training', reason: b.afterTraining.notCompared, incomplete: false });
  for (const o of b.afterTraining?.optimizers ?? []) {
    if (o.notCompared) found.push({ what: 'optimizer', optimizer: `${o.optimizer} with ${o.implementation}`, reason: o.notCompared, incomplete: false });
  }
  if (b.isolated.gradients.unavailable) found.push({ what: 'layer-alone gradients', reason: b.isolated.gradients.unavailable, incomplete: false });
  return found;
}

/** fail when a counted tensor is out of tolerance, else incomplete when gradients were not compared, else pass. */
export function backendVerdict(b: VerdictInput): BackendVerdict {
  const compared = comparedTensors(b);
  const failures = compared.filter((c) => c.counted && !c.tensor.comparison.passed);
  const notCompared = notComparedOn(b);
  const outcome: ParityOutcome = failures.length > 0 ? 'fail' : notCompared.some((n) => n.incomplete) ? 'incomplete' : 'pass';
  return { outcome, compared, failures, notCompared };
}
