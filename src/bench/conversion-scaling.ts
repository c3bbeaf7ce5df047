import type { ScalingBench } from './bench-results.js';

/** A least-squares line through (x, y): y ≈ intercept + slope·x. */
export function fitLine(points: readonly { x: number; y: number }[]): { intercept: number; slope: number } | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  return { intercept: my - slope * mx, slope };
}

const GB = 2 ** 30;
const MB = 2 ** 20;

/** Per model: weights MB/s, the copy's MB/s, convert time / copy time, and peak RSS against the weights' size. */
export function scalingRows(runs: readonly ScalingBench[]): string[][] {
  return runs.map((r) => [
    r.model,
    (r.weightBytes / MB).toFixed(0),
    r.wallS.toFixed(2),
    (r.weightBytes / MB / r.wallS).toFixed(0),
    (r.fileBytes / MB / r.copyWallS).toFixed(0),
    `${(r.wallS / r.copyWallS).toFixed(2)}x`,
    r.peakRssMb.toFixed(0),
    `${(r.peakRssMb / (r.weightBytes / MB)).toFixed(2)}x`,
  ]);
}

export const SCALING_HEADER = ['model', 'weights MB', 'wall s', 'weights MB/s', 'cp MB/s', 'time / cp', 'peak RSS MB', 'peak RSS / weights'];

/** "time ≈ 1.9 s + 4.1 s per GB of weights; peak RSS ≈ 190 MB + 0.25 MB per MB of weights", fitted over the sizes run. */
export function scalingSummary(runs: readonly ScalingBench[]): string | undefined {
  const time = fitLine(runs.map((r) => ({ x: r.weightBytes / GB, y: r.wallS })));
  const rss = fitLine(runs.map((r) => ({ x: r.weightBytes / MB, y: r.peakRssMb })));
  if (!time || !rss) return undefined;
  return (
    `fitted over ${runs.length} sizes: time ≈ ${time.intercept.toFixed(1)} s + ${time.slope.toFixed(1)} s per GB of weights ` +
    `(${(GB / MB / time.slope).toFixed(0)} MB/s at the margin); peak RSS ≈ ${rss.intercept.toFixed(0)} MB + ${rss.slope.toFixed(2)} MB per MB of weights`
  );
}
