import { SCALING_HEADER, scalingRows, scalingSummary } from './conversion-scaling.js';
import { CEILING_HEADER, ceilingRows, ceilingSummary } from './product-ceiling.js';
import type { BenchModel, BenchResults } from './bench-results.js';
import type { Timing } from './timing.js';

/** One row per model, batch size and runtime: medians, spread, and ratios to Keras's tf.function. */
export interface BenchRow {
  model: string;
  batch: string;
  runtime: string;
  forward: Timing | undefined;
  backward: Timing | undefined;
  forwardRatio: number | null;
  backwardRatio: number | null;
  /** Keras's tf.function median (ms) the ratio is taken to where it was timed in alternation with the cell (time-model.ts, kerasAlongside); absent where the ratio is to the model's Keras row. */
  forwardAgainstMs?: number;
  backwardAgainstMs?: number;
}

const ms = (t: Timing | undefined): number | null => (t && 'medianMs' in t ? t.medianMs : null);

/** The rows of one model: Keras's tf.function (the reference), Keras eager, then each tfjs backend. */
export function benchRows(model: BenchModel): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const [batch, keras] of Object.entries(model.keras)) {
    const reference = { forward: ms(keras.function_forward), backward: ms(keras.function_backward) };
    const ratio = (t: Timing | undefined, ref: number | null) => (ms(t) !== null && ref ? ms(t)! / ref : null);
    const row = (runtime: string, forward: Timing | undefined, backward: Timing | undefined, alongside?: { forward?: Timing; backward?: Timing }): BenchRow => {
      // A cell timed in alternation with Keras is divided by those Keras runs, not by the model's row.
      const against = { forward: ms(alongside?.forward) ?? undefined, backward: ms(alongside?.backward) ?? undefined };
      return {
        model: model.name,
        batch,
        runtime,
        forward,
        backward,
        forwardRatio: ratio(forward, against.forward ?? reference.forward),
        backwardRatio: ratio(backward, against.backward ?? reference.backward),
        ...(against.forward !== undefined ? { forwardAgainstMs: against.forward } : {}),
        ...(against.backward !== undefined ? { backwardAgainstMs: against.backward } : {}),
      };
    };
    rows.push(row('keras tf.function', keras.function_forward, keras.function_backward));
    rows.push(row('keras eager', keras.eager_forward, keras.eager_backward));
    for (const [backend, figures] of Object.entries(model.backends)) {
      if ('skipped' in figures) rows.push(row(backend, { skipped: figures.skipped }, { skipped: figures.skipped }));
      else rows.push(row(backend, figures.batches[batch]?.forward, figures.batches[batch]?.backward, figures.batches[batch]?.kerasAlongside));
    }
  }
  return rows;
}

/** "12.3 (11.9–13.0)": the median and the 10th to 90th percentile, or "skipped". */
export function formatTiming(t: Timing | undefined): string {
  if (!t) return '-';
  if ('skipped' in t) return 'skipped';
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return t.runs > 1 ? `${f(t.medianMs)} (${f(t.p10Ms)}–${f(t.p90Ms)})` : `${f(t.medianMs)} (1 run)`;
}

/** Peak RSS growth over the weights' size; '-' under 1 MB of weights, where Node's own noise is larger than the weights. */
export function rssPerWeight(rssMb: number, weightBytes: number): string {
  const mb = weightBytes / 2 ** 20;
  return mb < 1 ? '-' : `${(rssMb / mb).toFixed(2)}x`;
}

/** "1.89x", or "1.89x of 49.8" where the ratio is to Keras runs alternated with the cell's (their median, ms). */
export const formatRatio = (r: number | null, againstMs?: number): string => {
  if (r === null) return '-';
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return againstMs === undefined ? `${r.toFixed(2)}x` : `${r.toFixed(2)}x of ${f(againstMs)}`;
};

/** What the ratio column divides by, for the report's header line. */
export const RATIO_TEXT =
  "ratio: time / Keras tf.function's time at the same batch size: its runs alternated with the cell's where the ratio says 'of' that median (ms), else the model's keras tf.function row";

/**
 * Seconds of conversion work under which its rate is not shown: the spread between two runs of a
 * process that converts nothing, which the work time is measured over (a 3 MB model's 1 ms gave
 * "3013 MB/s", one clamped to 1 ms "16000").
 */
export const CONVERSION_RESOLUTION_S = 0.05;

/** A conversion's weights MB/s, peak RSS over the baseline and RSS / weights as table cells: '-' where the work or the memory is within the baseline process's own spread, or the weights under 1 MB. */
export function conversionCells(c: { weightMbPerS: number; peakRssOverBaselineMb: number }, weightBytes: number): [string, string, string] {
  const mb = weightBytes / 2 ** 20;
  const workS = mb / c.weightMbPerS;
  // Under 1 MB of weights, as for the RSS ratio: Node's own noise is larger than the weights.
  const rate = mb >= 1 && workS >= CONVERSION_RESOLUTION_S ? c.weightMbPerS.toFixed(0) : '-';
  const rss = c.peakRssOverBaselineMb;
  return [rate, rss >= 0 ? rss.toFixed(0) : '-', rss >= 0 ? rssPerWeight(rss, weightBytes) : '-'];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Every timing not taken, with why: "resnet50 batch 32 wasm forward+backward: one run would take …". */
export function notTimed(run: BenchResults): string[] {
  return run.models
    .flatMap(benchRows)
    .flatMap((r) => [r.forward, r.backward].flatMap((t, i) => (t && 'skipped' in t ? [`${r.model} batch ${r.batch} ${r.runtime} ${i === 0 ? 'forward' : 'forward+backward'}: ${t.skipped}`] : [])));
}

/** The terminal report: timings, conversion, parity runs, and every skipped cell with why. */
export function formatBenchTable(run: BenchResults): string {
  const timingRows = run.models.flatMap(benchRows).map((r) => [r.model, r.batch, r.runtime, formatTiming(r.forward), formatRatio(r.forwardRatio, r.forwardAgainstMs), formatTiming(r.backward), formatRatio(r.backwardRatio, r.backwardAgainstMs)]);
  const conversionRows = run.models.flatMap((m) =>
    m.conversion.map((c) => [m.name, c.from, (m.weightBytes / 2 ** 20).toFixed(1), c.wallS.toFixed(2), ...conversionCells(c, m.weightBytes)]),
  );
  const parityRows = run.models.flatMap((m) => m.parity.map((p) => [m.name, p.backend, p.wallS !== null ? p.wallS.toFixed(1) : '-', p.tensors !== null ? String(p.tensors) : '-', p.note ?? 'pass']));
  const memoryRows = run.models.flatMap((m) =>
    Object.entries(m.backends).map(([b, f]) => [m.name, b, 'skipped' in f || f.leakedTensors === null ? '-' : String(f.leakedTensors), 'skipped' in f || f.peakRssMb === null ? '-' : f.peakRssMb.toFixed(0), 'skipped' in f ? f.skipped : '']),
  );
  const skipped = notTimed(run).map((line) => `  ${line}`);
  return [
    `keras-bridge bench, ${run.date.slice(0, 10)}: ${run.machine.cpu}, ${run.machine.cores} cores; Keras ${run.machine.keras} on TensorFlow ${run.machine.tensorflow}, tfjs ${run.machine.tfjs}, Node ${run.machine.node}` +
      (run.machine.tensorflowBinding ? `; tensorflow binding: ${run.machine.tensorflowBinding}` : '') +
      (run.machine.wasmProducts ? `; wasm products: ${run.machine.wasmProducts}` : ''),
    ...backendDetailsLines(run),
    `milliseconds: median (10th–90th percentile) of ${runsText(run)}, after ${warmupText(run)}; ${RATIO_TEXT}`,
    '',
    table(['model', 'batch', 'runtime', 'forward ms', 'ratio', 'forward+backward ms', 'ratio'], timingRows),
    '',
    `conversion (keras-bridge convert, one process${conversionRunsText(run)}; time and peak RSS over a process that converts nothing, keras-bridge convert --help):`,
    table(['model', 'from', 'weights MB', 'wall s', 'weights MB/s', 'peak RSS +MB', 'RSS / weights'], conversionRows),
    ...(run.conversionScaling && run.conversionScaling.length > 0
      ? [
          '',
          'conversion scaling (keras-bridge convert of synthetic .keras files, next to cp of the same file; whole-process peak RSS):',
          table(SCALING_HEADER, scalingRows(run.conversionScaling)),
          ...[scalingSummary(run.conversionScaling)].filter((l): l is string => l !== undefined),
        ]
      : []),
    ...(ceilingRows(run).length > 0 ? ['', `products against the machine (${ceilingSummary(run)}):`, table(CEILING_HEADER, ceilingRows(run))] : []),
    '',
    'full parity run (keras-bridge parity BUNDLE: conversion, every tensor, every mode):',
    table(['model', 'backend', 'wall s', 'tensors', 'outcome'], parityRows),
    '',
    'memory of the timed runs (tensors still alive after them: 0 when nothing leaks):',
    table(['model', 'backend', 'leaked tensors', 'peak RSS MB', ''], memoryRows),
    ...(skipped.length > 0 ? ['', 'not timed:', ...skipped] : []),
  ].join('\n');
}

/** One line naming what each backend ran on (wasm's threads, webgpu's adapter), where any says. */
function backendDetailsLines(run: BenchResults): string[] {
  const details = new Map<string, string>();
  for (const m of run.models) {
    for (const [backend, bench] of Object.entries(m.backends)) if (!('skipped' in bench) && bench.details) details.set(backend, bench.details);
  }
  return details.size === 0 ? [] : [`backends: ${[...details].map(([backend, d]) => `${backend} on ${d}`).join('; ')}`];
}

/**
 * How the conversions were repeated: since the thirty-seventh session each just after a run of the
 * baseline, the work the median of the pairs' differences; before, the baseline timed once for the
 * whole bench. '' for one run each.
 */
export function conversionRunsText(run: BenchResults): string {
  const runs = run.settings.conversionRuns ?? 1;
  const paired = run.models.some((m) => m.conversion.some((c) => c.workS !== undefined));
  if (paired) return runs > 1 ? `, the median of ${runs} runs, each just after a run of the baseline (work: the median of the ${runs} differences)` : ', just after a run of the baseline';
  return runs > 1 ? `, the median of ${runs} runs (and of ${runs} runs of the baseline)` : '';
}

/** How many runs each timing made: `repeats` at most, or since minimum times, that many or more to fill it (timing.ts, timedRunCount). */

export function runsText(run: BenchResults): string {
  const minTimeS = run.settings.minTimeS;
  return minTimeS === undefined || minTimeS === 0 ? `up to ${run.settings.repeats} runs` : `${run.settings.repeats} runs, or more to last ${minTimeS} s (at most 500)`;
}

/** How each timing was warmed up: seconds of runs (timing.ts, warmUp), or one run in results from before. */
export function warmupText(run: BenchResults): string {
  const seconds = run.settings.warmupS;
  return seconds === undefined || seconds === 0 ? 'one warm-up run' : `${seconds} s of warm-up runs (at most 50)`;
}
