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

export function summarizeRuns(runs: readonly ProcessRun[]): RepeatedRuns {
  if (runs.length === 0) throw new Error('no runs to summarize');
  const walls = runs.map((r) => r.wallS);
  return { wallS: median(walls), wallRangeS: [Math.min(...walls), Math.max(...walls)], peakRssMb: median(runs.map((r) => r.peakRssMb)), runs: runs.length };
}
