import { printable } from './printable.js';
import type { BackendParity, ParityRun, TensorParity } from '../parity/parity-result.js';
import { parityModes } from '../parity/modes/index.js';
import { backendVerdict } from '../parity/parity-verdict.js';
import { divergenceLines } from './divergence-lines.js';
import { describeFailure } from './failure-line.js';
import { formatError } from './format-number.js';

export { gradientsNotComparedLines } from './gradients-not-compared-line.js';

const COLUMNS = ['model', 'layer or tensor', 'backend', 'max abs err', 'max rel err', 'tolerance', 'result'] as const;

/** The human-readable parity table, then a line per failure with the worst element. */
export function formatParityTable(run: ParityRun, useColor: boolean): string {
  const paint = (text: string, code: number) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
  const rows: string[][] = [];
  const shown: TensorParity[] = [];
  const failures: string[] = [];
  let [compared, failed] = [0, 0];
  for (const model of run.models) {
    for (const backend of model.backends) {
      const verdict = backendVerdict(backend);
      compared += verdict.compared.filter((c) => c.counted).length;
      failed += verdict.failures.length;
      failures.push(...verdict.failures.map((f) => describeFailure(model.model, backend.backend, f)));
      // A row per tensor of the modes that ask for them (end to end, training, after training);
      // the others (each layer alone) get their summary lines (modeLines), and their failures a failure line.
      const tableModes = new Set(parityModes().filter((m) => m.tableRows).map((m) => m.name));
      for (const { tensor: t, counted } of verdict.compared.filter((c) => tableModes.has(c.mode))) {
        shown.push(t);
        rows.push([
          printable(model.model, 200),
          printable(t.label, 400) + referenceMark(t),
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
  const warnings = run.models.flatMap((m) => m.conversionWarnings.map((w) => `${m.model}: conversion warning: ${w}`));
  if (warnings.length > 0) out.push('', ...warnings.map((w) => paint(w, 33)));
  const divergences = run.models.flatMap((m) => m.backends.flatMap((b) => divergenceLines(m.model, b)));
  if (divergences.length > 0) out.push('', ...divergences.map((d) => paint(d, 31)));
  out.push('', ...run.models.flatMap((m) => m.backends.flatMap((b) => modeLines(m.model, b, paint))));
  if (failures.length > 0) out.push('', ...failures);
  for (const u of run.unavailableBackends) out.push('', paint(`backend ${u.backend} not run: ${u.reason}`, 33));
  for (const d of run.backendDetails ?? []) out.push(`backend ${d.backend}: ${d.details}`);
  out.push('', summaryLine(run, failed, compared, paint));
  return out.join('\n');
}

/**
 * The last line: pass, FAIL, or every compared tensor passing while some gradients could not be
 * compared; `failed` of `total` counted tensors in every mode (the table's rows and each layer alone).
 */
function summaryLine(run: ParityRun, failed: number, total: number, paint: (text: string, code: number) => string): string {
  switch (run.outcome) {
    case 'pass':
      return paint(`parity: ${total} tensors compared, all pass`, 32);
    case 'incomplete':
      return paint(`parity INCOMPLETE: ${total} tensors compared, all pass, but gradients were NOT compared on ${gradientsNotComparedOn(run).join(', ')} (see above)`, 33);
    case 'fail': {
      const notRun = run.models.reduce((n, m) => n + m.backends.filter((b) => b.runError !== undefined).length, 0);
      const couldNotRun = notRun > 0 ? `; ${notRun} model × backend run${notRun === 1 ? '' : 's'} could not finish (see above)` : '';
      return paint(`parity: ${failed} of ${total} tensors FAIL${couldNotRun}`, 31);
    }
  }
}

/** "model on backend" (with " in training mode" when only there) for each backend whose gradients were not compared. */
export function gradientsNotComparedOn(run: ParityRun): string[] {
  return run.models.flatMap((m) =>
    m.backends.flatMap((b) => {
      const incomplete = backendVerdict(b).notCompared.filter((n) => n.incomplete);
      if (incomplete.length === 0) return [];
      return [`${m.model} on ${b.backend}${incomplete.every((n) => n.what === 'training gradients') ? ' in training mode' : ''}`];
    }),
  );
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

/** Each registered mode's summary lines for one model on one backend (layer alone, training, after training, ...). */
export function modeLines(model: string, b: BackendParity, paint: (text: string, code: number) => string): string[] {
  if (b.runError !== undefined) return [paint(runErrorLine(model, b), 31)];
  return parityModes().flatMap((mode) => mode.summaryLines(model, b, paint));
}

/** "MODEL on BACKEND: could not run: ERROR; nothing compared". */
export function runErrorLine(model: string, b: BackendParity): string {
  return `${model} on ${b.backend}: could not run: ${printable(b.runError ?? '', 2000)}; nothing compared`;
}
