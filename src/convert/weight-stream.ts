import { InputError, WeightMismatchError } from '../errors.js';
import { isCheckedFinite } from './checked-finite.js';
import type { ConstraintWarning } from './conversion-report.js';
import { constraintWarning } from './weight-constraints.js';
import type { PlannedWeight, WeightPlan } from './weight-plan.js';
import { castWeightBytes, float32Values, nonFiniteWarning, storedByteLength, type NonFiniteWeight } from './weight-values.js';

/** What reading the weights' values found. */
export interface WeightChecks {
  nonFinite: NonFiniteWeight[];
  constraintWarnings: ConstraintWarning[];
}

export interface StreamWeightsOptions {
  /** Refuse float weights holding NaN or infinities (after all are read: the error counts them). */
  refuseNonFinite?: boolean;
}

/**
 * Bytes of weights read ahead of the one being written (at least the next weight, whatever its
 * size): small weights are asked for together (a model file's reader answers reads asked while it
 * is busy in one round trip: hdf5-worker.ts), large ones one ahead.
 */
export const READ_AHEAD_BYTES = 4 * 1024 * 1024;

/**
 * Reads the plan's weights in order (reads ahead overlapping this one's write: READ_AHEAD_BYTES,
 * or the next weight), casts each to its tfjs dtype, checks its values (NaN/Inf, constraints tfjs
 * applies on load) and hands its bytes to `write`. At most the weight in hand and READ_AHEAD_BYTES
 * or one more weight are held at once, whatever the model's size: the caller decides whether they
 * are kept (convertKerasModel) or go to disk, and must not keep `write`'s bytes past its call (the
 * source may reuse their memory).
 */
export async function streamWeights(
  plan: WeightPlan,
  write: (bytes: Uint8Array, weight: PlannedWeight) => void | Promise<void>,
  options: StreamWeightsOptions = {},
): Promise<WeightChecks> {
  const checks: WeightChecks = { nonFinite: [], constraintWarnings: [] };
  const read = (i: number): Promise<Uint8Array> | undefined => {
    const weight = plan.weights[i];
    if (!weight) return undefined;
    const pending = weight.source.data.read();
    pending.catch(() => undefined); // awaited below; a prefetch failing first is not unhandled
    return pending;
  };
  const ahead: Array<{ bytes: Promise<Uint8Array>; byteLength: number }> = [];
  let aheadBytes = 0;
  let nextToRead = 0;
  const readAhead = () => {
    for (let w = plan.weights[nextToRead]; w && (ahead.length === 0 || aheadBytes + w.source.data.byteLength <= READ_AHEAD_BYTES); w = plan.weights[nextToRead]) {
      ahead.push({ bytes: read(nextToRead)!, byteLength: w.source.data.byteLength });
      aheadBytes += w.source.data.byteLength;
      nextToRead++;
    }
  };
  readAhead();
  for (let i = 0; i < plan.weights.length; i++) {
    const weight = plan.weights[i]!;
    const taken = ahead.shift()!;
    aheadBytes -= taken.byteLength;
    const stored = await taken.bytes;
    readAhead();
    const bytes = checkedBytes(weight, stored);
    await write(bytes, weight);
    if (weight.spec.dtype === 'float32') checkValues(weight, float32Values(bytes), checks, bytes === stored && isCheckedFinite(stored));
    weight.source.data.release?.(stored);
  }
  if (checks.nonFinite.length > 0 && options.refuseNonFinite) {
    const [first] = checks.nonFinite;
    throw new InputError(`${first!.message}${checks.nonFinite.length > 1 ? ` (and ${checks.nonFinite.length - 1} more weights)` : ''}; refused (--refuse-non-finite-weights).`);
  }
  return checks;
}

function checkedBytes(weight: PlannedWeight, stored: Uint8Array): Uint8Array {
  const { source } = weight;
  const expected = storedByteLength(source.shape, source.dtype);
  if (stored.length !== expected) {
    throw new WeightMismatchError(`${weight.where}: ${stored.length} bytes stored for shape [${source.shape.join(', ')}] ${source.dtype}, which takes ${expected}.`);
  }
  return castWeightBytes(stored, source.dtype, weight.spec.dtype, weight.where);
}

function checkValues(weight: PlannedWeight, values: Float32Array, checks: WeightChecks, knownFinite: boolean): void {
  const nonFinite = nonFiniteWarning(values, weight.layer, weight.source.path, weight.where, knownFinite);
  if (nonFinite) checks.nonFinite.push(nonFinite);
  if (weight.constraint && weight.source.dtype === 'float32') {
    const warning = constraintWarning({ layer: weight.layer, weight: weight.source.path, constraint: weight.constraint, shape: weight.source.shape, values });
    if (warning) checks.constraintWarnings.push(warning);
  }
}
