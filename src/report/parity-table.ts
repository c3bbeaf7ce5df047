import { outcomeOf, type BackendParity, type ParityRun, type TensorParity } from '../parity/parity-result.js';
import { divergenceLines } from './divergence-lines.js';
import { formatError } from './format-number.js';
import { isolatedGradientsLine } from './isolated-gradients-line.js';
import { trainingFailures, trainingLines, trainingRows } from './training-lines.js';

const COLUMNS = ['model', 'layer or tensor', 'backend', 'max abs err', 'max rel err', 'tolerance', 'result'] as const;

/** The human-readable parity table, then a line per failure with the worst element. */
export function formatParityTable(run: ParityRun, useColor: boolean): string {
  const paint = (text: string, code: number) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
  const rows: string[][] = [];
  const shown: TensorParity[] = [];
  for (const model of run.models) {
    for (const backend of model.backends) {
      const entries = [...backend.tensors.map((tensor) => ({ tensor, counted: true })), ...trainingRows(backend)];
      for (const { tensor: t, counted } of entries) {
        shown.push(t);
        rows.push([
          model.model,
          t.label + referenceMark(t),
          backend.backend,
          formatError(t.comparison.maxAbsError),
          formatError(t.comparison.maxRelError),
          `atol ${formatError(t.comparison.tolerance.atol)} rtol ${formatError(t.comparison.tolerance.rtol)}`,
          t.comparison.passed ? 'pass' : counted ? 'FAIL' : 'differs (not counted)',
        ]);
      }
    }
  }
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(COLUMNS), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows) {
    const text = line(row);
    out.push(row[6] === 'pass' ? text : paint(text, row[6] === 'FAIL' ? 31 : 33));
  }
  const notes = referenceFootnotes(shown);
  if (notes.length > 0) out.push('', ...notes);
  const failures = run.models.flatMap((m) =>
    m.backends.flatMap((b) =>
      failedTensors(b).map((t) => describeFailure(m.model, b.backend, t)),
    ),
  );
  const warnings = run.models.flatMap((m) => (m.conversionWarnings ?? []).map((w) => `${m.model}: conversion warning: ${w}`));
  if (warnings.length > 0) out.push('', ...warnings.map((w) => paint(w, 33)));
  const divergences = run.models.flatMap((m) => m.backends.flatMap((b) => divergenceLines(m.model, b)));
  if (divergences.length > 0) out.push('', ...divergences.map((d) => paint(d, 31)));
  out.push('', ...run.models.flatMap((m) => m.backends.flatMap((b) => modeLines(m.model, b, paint))));
  if (failures.length > 0) out.push('', ...failures);
  for (const u of run.unavailableBackends) out.push('', paint(`backend ${u.backend} not run: ${u.reason}`, 33));
  out.push('', summaryLine(run, rows.filter((r) => r[6] === 'FAIL').length, rows.length, paint));
  return out.join('\n');
}

/** The last line: pass, FAIL, or every compared tensor passing while some gradients could not be compared. */
function summaryLine(run: ParityRun, failed: number, total: number, paint: (text: string, code: number) => string): string {
  switch (outcomeOf(run)) {
    case 'pass':
      return paint(`parity: ${total} tensors compared, all pass`, 32);
    case 'incomplete':
      return paint(`parity INCOMPLETE: ${total} tensors compared, all pass, but gradients were NOT compared on ${gradientsNotComparedOn(run).join(', ')} (see above)`, 33);
    case 'fail':
      return paint(`parity: ${failed} of ${total} tensors FAIL`, 31);
  }
}

/** "model on backend" (with " in training mode" when only there) for each backend whose gradients were not compared. */
export function gradientsNotComparedOn(run: ParityRun): string[] {
  return run.models.flatMap((m) =>
    m.backends.flatMap((b) => {
      if (b.gradientsNotCompared) return [`${m.model} on ${b.backend}`];
      return b.training?.gradientsNotCompared ? [`${m.model} on ${b.backend} in training mode`] : [];
    }),
  );
}

/** The line saying the end-to-end gradients were not compared, and why, or none. */
export function gradientsNotComparedLines(model: string, b: BackendParity, paint: (text: string, code: number) => string): string[] {
  if (!b.gradientsNotCompared) return [];
  return [paint(`${model} on ${b.backend}, gradients (inputs, weights, layer outputs): NOT compared: ${b.gradientsNotCompared}; outputs and layer outputs were compared`, 33)];
}

/** " *" for a finite-difference reference, " †" where atol includes Keras's float32 error measured against float64, " *†" for both. */
export function referenceMark(t: TensorParity): string {
  const mark = (t.source === 'finite_difference' ? '*' : '') + (t.float64Error != null ? '†' : '');
  return mark ? ` ${mark}` : '';
}

/** The footnotes for the marks the tensors carry. */
export function referenceFootnotes(tensors: TensorParity[]): string[] {
  const notes: string[] = [];
  if (tensors.some((t) => t.source === 'finite_difference')) {
    notes.push('* expected value is a chain rule through a finite-difference reference (Python could not differentiate a layer); its estimated error is added to atol.');
  }
  if (tensors.some((t) => t.float64Error != null && t.kernelVariantError != null)) {
    notes.push(
      "† atol includes Keras's own float32 error, measured against float64 (the same passes run by a float64 copy of the model; export --float64-reference), " +
        "plus tfjs's, taken as no worse than the least accurate of Keras's float32 kernel variants (oneDNN on, capped at AVX2, off) nor than Keras's own.",
    );
  }
  if (tensors.some((t) => t.float64Error != null && t.kernelVariantError == null)) {
    notes.push(
      "† atol includes twice Keras's own float32 error, measured against float64 (the same passes run by a float64 copy of the model; export --float64-reference): " +
        'once for Keras, once for tfjs rounding no worse than Keras (kernel variants not measured).',
    );
  }
  return notes;
}

/** The lines on the other modes for one model on one backend: layer-isolated outputs and gradients, training. */
export function modeLines(model: string, b: BackendParity, paint: (text: string, code: number) => string): string[] {
  const { tensors, failingLayers, skipped } = b.isolated;
  const notRun = skipped.length > 0 ? `; not run alone: ${skipped.map((s) => `${s.layer} (${s.reason})`).join(', ')}` : '';
  const isolated =
    failingLayers.length === 0
      ? `${model} on ${b.backend}, layer-isolated mode: ${tensors.length} layer outputs compared, all pass${notRun}`
      : paint(`${model} on ${b.backend}, layer-isolated mode: out of tolerance when run alone on Keras's inputs: ${failingLayers.join(', ')}${notRun}`, 31);
  return [...gradientsNotComparedLines(model, b, paint), isolated, isolatedGradientsLine(model, b, paint), ...trainingLines(model, b, paint)];
}

/** Every counted tensor out of tolerance on one backend, in every mode. */
export function failedTensors(b: BackendParity): TensorParity[] {
  return [...b.tensors, ...b.isolated.tensors, ...b.isolated.gradients.tensors].filter((t) => !t.comparison.passed).concat(trainingFailures(b));
}

/** "sequential_2 › layer dense_3 on wasm: 3 / 128 elements (2.3%) out of tolerance; worst ..." */
export function describeFailure(model: string, backend: string, t: TensorParity): string {
  const c = t.comparison;
  const head = `${model} › ${t.label} on ${backend}:`;
  if (c.shapeMismatch) return `${head} ${c.shapeMismatch}`;
  const parts = [`${head} ${c.mismatches} / ${c.elements} elements (${((100 * c.mismatches) / Math.max(1, c.elements)).toFixed(1)}%) out of tolerance`];
  if (c.nonFiniteActual > 0) parts.push(`${c.nonFiniteActual} NaN/Inf in tfjs output`);
  if (c.nonFiniteExpected > 0) parts.push(`${c.nonFiniteExpected} NaN/Inf in Keras golden`);
  if (c.worst) {
    parts.push(
      `worst at index [${c.worst.index.join(', ')}]: tfjs ${c.worst.actual.toPrecision(8)} vs Keras ${c.worst.expected.toPrecision(8)} ` +
        `(|diff| ${formatError(Math.abs(c.worst.actual - c.worst.expected))}, up to ${formatError(c.worst.allowed)} allowed)`,
    );
  }
  parts.push(`atol ${formatError(c.minPassingAtol)} would have passed at rtol ${formatError(c.tolerance.rtol)}`);
  return parts.join('; ');
}
