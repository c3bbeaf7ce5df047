/**
 * Quantiles of error arrays by selection rather than sorting: O(n) where a sort is O(n log n)
 * (a ResNet50 parity run compares 126M elements). The values are the same order statistics a sort
 * gives, so the same numbers. Reorders `values`.
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
  const n = values.length;
  if (n === 0) return 0;
  const position = (n - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  select(values, low, 0, n - 1);
  const lowValue = values[low]!;
  if (high === low) return lowValue;
  // Everything after `low` is >= it now: the next order statistic is their minimum.
  let highValue = Infinity;
  for (let i = low + 1; i < n; i++) if (values[i]! < highValue) highValue = values[i]!;
  return lowValue + (highValue - lowValue) * (position - low);
}
