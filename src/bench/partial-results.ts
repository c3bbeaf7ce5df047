import { BATCH_LINE, PASS_PENDING, type BackendBench } from './bench-results.js';

/**
 * The figures of a bench worker that did not finish (it ran past its time, or crashed), from the
 * `BATCH` lines it printed: each batch's last line wins (its forward pass alone, then both passes);
 * a pass still pending and every batch with no line say `why`. Undefined when no batch has a line.
 */
export function finishedBatches(stdoutLines: readonly string[], batchSizes: readonly number[], why: string): BackendBench['batches'] | undefined {
  const done = stdoutLines
    .filter((line) => line.startsWith(`${BATCH_LINE} `))
    .map((line) => JSON.parse(line.slice(BATCH_LINE.length + 1)) as { batch: string; figures: BackendBench['batches'][string] });
  if (done.length === 0) return undefined;
  const batches: BackendBench['batches'] = Object.fromEntries(done.map((d) => [d.batch, d.figures]));
  for (const figures of Object.values(batches)) {
    if ('skipped' in figures.backward && figures.backward.skipped === PASS_PENDING) figures.backward = { skipped: why };
  }
  for (const b of batchSizes) batches[String(b)] ??= { forward: { skipped: why }, backward: { skipped: why } };
  return batches;
}
