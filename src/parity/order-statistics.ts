import { HIGH_WORD } from './float64-words.js';

/**
 * Quantiles of error arrays by counting and selection rather than sorting: O(n) where a sort is
 * O(n log n) (a ResNet50 parity run compares 126M elements). The values are the same order
 * statistics a sort gives, so the same numbers. Reorders `values`.
 */

/** Moves the k-th smallest element (0-based) of values[left..right] to index k; smaller ones before it, larger after. */
function select(values: Float64Array, k: number, left: number, right: number): void {
  // Three-way partitioning: errors repeat a lot (exact matches are all 0), which a two-way
  // quickselect would turn quadratic on.
  let seed = 0x2545f491;
  while (right > left) {
    // A pseudo-random pivot (deterministic): no input order makes it quadratic by construction.
    seed = (seed * 1103515245 + 12345) >>> 0;
    const pivot = values[left + (seed % (right - left + 1))]!;
    let lt = left;
    let gt = right;
    let i = left;
    while (i <= gt) {
      const v = values[i]!;
      if (v < pivot) {
        values[i] = values[lt]!;
        values[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        values[i] = values[gt]!;
        values[gt] = v;
        gt--;
      } else {
        i++;
      }
    }
    // values[left..lt) < pivot, values[lt..gt] == pivot, values(gt..right] > pivot.
    if (k < lt) right = lt - 1;
    else if (k > gt) left = gt + 1;
    else return;
  }
}

/**
 * The q-quantile with linear interpolation between closest ranks (numpy.quantile's default), as
 * quantileOf on the sorted values gives it; at an exact rank whose value is Infinity, Infinity
 * (where interpolating would give Infinity - Infinity = NaN). No NaN may be in `values`.
 */
export function quantileBySelection(values: Float64Array, q: number): number {
  return quantilesBySelection(values, [q])[0]!;
}

/**
 * quantileBySelection for several q at once: for errors (never negative) one counting pass finds
 * every rank's bucket for all of them (orderStatistics), where each quantile's quickselect passes
 * over the values several times. May reorder `values`.
 */
export function quantilesBySelection(values: Float64Array, qs: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return qs.map(() => 0);
  const positions = qs.map((q) => (n - 1) * q);
  const ranks = [...new Set(positions.flatMap((p) => [Math.floor(p), Math.ceil(p)]))];
  const statistics = orderStatistics(values, ranks) ?? selectEach(values, ranks);
  return positions.map((position) => {
    const low = Math.floor(position);
    const lowValue = statistics.get(low)!;
    if (Math.ceil(position) === low) return lowValue;
    return lowValue + (statistics.get(low + 1)! - lowValue) * (position - low);
  });
}

/** Each rank's order statistic by quickselect, one after another (values of any sign). */
function selectEach(values: Float64Array, ranks: readonly number[]): Map<number, number> {
  const statistics = new Map<number, number>();
  for (const rank of ranks) {
    select(values, rank, 0, values.length - 1);
    statistics.set(rank, values[rank]!);
  }
  return statistics;
}

/** Buckets by the top 16 bits of a double: sign, exponent and 4 bits of mantissa. */
const TOP_BITS = 16;

/**
 * The order statistics at `ranks` of values none of which is negative, whose bit patterns then
 * sort as the values do: counts by the top 16 bits in one pass, then a second pass gathers the few
 * buckets the ranks fall in, and selection runs within each. undefined where a value is negative
 * (or -0): the caller selects instead.
 */
function orderStatistics(values: Float64Array, ranks: readonly number[]): Map<number, number> | undefined {
  const n = values.length;
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  const counts = new Uint32Array(1 << TOP_BITS);
  for (let i = HIGH_WORD; i < 2 * n; i += 2) {
    const high = words[i]!;
    if (high >= 0x80000000) return undefined;
    counts[high >>> (32 - TOP_BITS)]!++;
  }
  // Each rank's bucket, and how many values come before that bucket.
  const sortedRanks = [...ranks].sort((a, b) => a - b);
  const bucketOf = new Map<number, { bucket: number; before: number }>();
  let before = 0;
  let next = 0;
  for (let bucket = 0; bucket < counts.length && next < sortedRanks.length; bucket++) {
    const count = counts[bucket]!;
    while (next < sortedRanks.length && sortedRanks[next]! < before + count) bucketOf.set(sortedRanks[next++]!, { bucket, before });
    before += count;
  }
  // Gather the values of each bucket a rank falls in.
  const slotOf = new Int32Array(1 << TOP_BITS).fill(-1);
  const gathered: Float64Array[] = [];
  for (const { bucket } of bucketOf.values()) {
    if (slotOf[bucket] === -1) {
      slotOf[bucket] = gathered.length;
      gathered.push(new Float64Array(counts[bucket]!));
    }
  }
  const filled = new Int32Array(gathered.length);
  for (let i = 0; i < n; i++) {
    const slot = slotOf[words[2 * i + HIGH_WORD]! >>> (32 - TOP_BITS)]!;
    if (slot >= 0) gathered[slot]![filled[slot]!++] = values[i]!;
  }
  const statistics = new Map<number, number>();
  for (const [rank, { bucket, before: offset }] of bucketOf) {
    const bucketValues = gathered[slotOf[bucket]!]!;
    const k = rank - offset;
    select(bucketValues, k, 0, bucketValues.length - 1);
    statistics.set(rank, bucketValues[k]!);
  }
  return statistics;
}
