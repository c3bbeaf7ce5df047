import { InputError, WeightMismatchError } from '../errors.js';
import { isCheckedFinite } from './checked-finite.js';
import type { ConstraintWarning } from './conversion-report.js';
import { constraintWarning } from './weight-constraints.js';
import type { FileRange } from './weight-data.js';
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
  /**
   * The places of the next bytes the caller would be handed (ShardWriter.reserve): where a
   * weight's source can write itself there (WeightData.copyTo) and the converter needs nothing of
   * its values (no cast, no constraint to check), it does, and `write` is not called for it.
   */
  reserve?: (length: number) => FileRange[];
}

/**
 * Bytes of copies (WeightData.copyTo) asked for and not yet done, at most: each is one answer of
 * the model file's reader, which must come within its timeout (hdf5-worker.ts), and the copies
 * asked while it is busy go to it together.
 */
export const COPY_AHEAD_BYTES = 64 * 1024 * 1024;

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
 * source may reuse their memory). With `options.reserve`, a weight whose source writes itself
 * into the reserved places (a model file's reader thread: no bytes cross to this thread) does so
 * instead, up to COPY_AHEAD_BYTES ahead; all such writes are done when this returns or throws.
 */
export async function streamWeights(
  plan: WeightPlan,
  write: (bytes: Uint8Array, weight: PlannedWeight) => void | Promise<void>,
  options: StreamWeightsOptions = {},
): Promise<WeightChecks> {
  // Each weight's findings apart, joined in the plan's order at the end (copies finish in any order).
  const found: WeightChecks[] = plan.weights.map(() => ({ nonFinite: [], constraintWarnings: [] }));
  const copied = plan.weights.map((w) => options.reserve !== undefined && copiesItself(w));
  const read = (i: number): Promise<Uint8Array> => {
    const pending = plan.weights[i]!.source.data.read();
    pending.catch(() => undefined); // awaited below; a prefetch failing first is not unhandled
    return pending;
  };
  const ahead: Array<{ bytes: Promise<Uint8Array>; byteLength: number }> = [];
  let aheadBytes = 0;
  let nextToRead = 0;
  const readAhead = () => {
    for (;;) {
      while (copied[nextToRead]) nextToRead++;
      const w = plan.weights[nextToRead];
      if (!w || (ahead.length > 0 && aheadBytes + w.source.data.byteLength > READ_AHEAD_BYTES)) return;
      ahead.push({ bytes: read(nextToRead), byteLength: w.source.data.byteLength });
      aheadBytes += w.source.data.byteLength;
      nextToRead++;
    }
  };
  const copies: Array<{ done: Promise<void>; byteLength: number }> = [];
  let copyingBytes = 0;
  const copy = async (weight: PlannedWeight, checks: WeightChecks): Promise<void> => {
    const { allFinite } = await weight.source.data.copyTo!(options.reserve!(weight.source.data.byteLength));
    // NaN or ±Inf somewhere (or not float32 after all): read the values to say which and how many.
    if (!allFinite && weight.spec.dtype === 'float32') {
      const stored = await weight.source.data.read();
      checkValues(weight, float32Values(checkedBytes(weight, stored)), checks, false);
      weight.source.data.release?.(stored);
    }
  };
  try {
    readAhead();
    for (let i = 0; i < plan.weights.length; i++) {
      const weight = plan.weights[i]!;
      if (copied[i]) {
        while (copies.length > 0 && copyingBytes + weight.source.data.byteLength > COPY_AHEAD_BYTES) {
          const oldest = copies.shift()!;
          copyingBytes -= oldest.byteLength;
          await oldest.done;
        }
        const done = copy(weight, found[i]!);
        done.catch(() => undefined); // awaited below
        copies.push({ done, byteLength: weight.source.data.byteLength });
        copyingBytes += weight.source.data.byteLength;
        continue;
      }
      const taken = ahead.shift()!;
      aheadBytes -= taken.byteLength;
      const stored = await taken.bytes;
      readAhead();
      const bytes = checkedBytes(weight, stored);
      await write(bytes, weight);
      if (weight.spec.dtype === 'float32') checkValues(weight, float32Values(bytes), found[i]!, bytes === stored && isCheckedFinite(stored));
      weight.source.data.release?.(stored);
    }
    for (const { done } of copies) await done;
  } finally {
    // No copy may still be writing once the caller goes on (to finish the shards, or to remove them).
    await Promise.allSettled(copies.map((c) => c.done));
  }
  const checks: WeightChecks = { nonFinite: found.flatMap((f) => f.nonFinite), constraintWarnings: found.flatMap((f) => f.constraintWarnings) };
  if (checks.nonFinite.length > 0 && options.refuseNonFinite) {
    const [first] = checks.nonFinite;
    throw new InputError(`${first!.message}${checks.nonFinite.length > 1 ? ` (and ${checks.nonFinite.length - 1} more weights)` : ''}; refused (--refuse-non-finite-weights).`);
  }
  return checks;
}

/** A weight its source writes into the shards itself: stored as tfjs holds it, its length right, no constraint to check. */
function copiesItself(weight: PlannedWeight): boolean {
  const { source } = weight;
  return (
    source.data.copyTo !== undefined &&
    source.dtype === weight.spec.dtype &&
    source.data.byteLength === storedByteLength(source.shape, source.dtype) &&
    !(weight.constraint && source.dtype === 'float32')
  );
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
