/** One run of a command the bench times as a whole process (a conversion, its baseline). */
export interface ProcessRun {
  wallS: number;
  peakRssMb: number;
}

/** Runs of one command: the median wall time and peak RSS (each its own median), the wall times' range, and how many. */
export interface RepeatedRuns {
  wallS: number;
  wallRangeS: [number, number];
  peakRssMb: number;
  runs: number;
}

/**
 * Conversions a bench times, by default (`npm run bench -- --conversion-runs N`): ResNet50's
 * .keras conversion is 0.3-0.4 s of work over a 0.45 s process, and one run of each moved its
 * MB/s by ±12% (measured in the twenty-seventh session: 236-296 MB/s on one machine in one hour).
 */
export const DEFAULT_CONVERSION_RUNS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Runs of a command each just after one of its baseline (the same process doing nothing), summarized, with the work each run did beyond its baseline. */
export interface PairedRuns extends RepeatedRuns {
  /** The baselines' median wall time. */
  baselineWallS: number;
  /** The median over pairs of (run - its baseline): the run's own work, a slow stretch of the machine cancelled where it slowed both. */
  workS: number;
  /** The median over pairs of (run's peak RSS - its baseline's). */
  peakRssOverBaselineMb: number;
}

/**
 * Pairs of runs summarized (PairedRuns): each figure over the baseline is the median of the pairs'
 * differences, not the difference of two medians taken minutes apart. Why: ResNet50's conversion is
 * 0.17 s of work in a 0.48 s process; in the thirty-sixth session's third run it measured 0.35 s
 * of work beyond a baseline timed at the start of the bench, 2x the other two runs' figure.
 */
export function summarizePairs(pairs: ReadonlyArray<{ baseline: ProcessRun; run: ProcessRun }>): PairedRuns {
  if (pairs.length === 0) throw new Error('no runs to summarize');
  return {
    ...summarizeRuns(pairs.map((p) => p.run)),
    baselineWallS: median(pairs.map((p) => p.baseline.wallS)),
    workS: median(pairs.map((p) => p.run.wallS - p.baseline.wallS)),
    peakRssOverBaselineMb: median(pairs.map((p) => p.run.peakRssMb - p.baseline.peakRssMb)),
  };
}

export function summarizeRuns(runs: readonly ProcessRun[]): RepeatedRuns {
  if (runs.length === 0) throw new Error('no runs to summarize');
  const walls = runs.map((r) => r.wallS);
  return { wallS: median(walls), wallRangeS: [Math.min(...walls), Math.max(...walls)], peakRssMb: median(runs.map((r) => r.peakRssMb)), runs: runs.length };
}
