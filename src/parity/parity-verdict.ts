import { parityModes, type BackendSections, type ComparedTensor, type NotCompared } from './modes/index.js';
import type { ParityOutcome } from './parity-result.js';

export type { ComparedTensor, NotCompared, ParityMode } from './modes/index.js';

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
export type VerdictInput = BackendSections;

/** Every tensor compared on one backend, each with its mode, in the registered modes' order. */
export function comparedTensors(b: VerdictInput): ComparedTensor[] {
  return parityModes().flatMap((mode) => mode.compared(b));
}

/** What one backend did not compare, in every registered mode, and whether each keeps the outcome from 'pass'. */
export function notComparedOn(b: VerdictInput): NotCompared[] {
  return parityModes().flatMap((mode) => mode.notCompared(b));
}

/**
 * fail when the backend could not run the model or a counted tensor is out of tolerance, else
 * incomplete when something incomplete was not compared, else pass.
 */
export function backendVerdict(b: VerdictInput): BackendVerdict {
  const compared = comparedTensors(b);
  const failures = compared.filter((c) => c.counted && !c.tensor.comparison.passed);
  const notCompared = notComparedOn(b);
  const outcome: ParityOutcome = b.runError !== undefined || failures.length > 0 ? 'fail' : notCompared.some((n) => n.incomplete) ? 'incomplete' : 'pass';
  return { outcome, compared, failures, notCompared };
}
