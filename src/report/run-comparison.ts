import type { BackendParity, ParityOutcome, ParityRun } from '../parity/parity-result.js';
import { backendVerdict, type ComparedTensor } from '../parity/parity-verdict.js';
import { formatError } from './format-number.js';
import { printable } from './printable.js';

/** Tensors named per line before "and N more". */
const NAMED = 5;
const RANK: Record<ParityOutcome, number> = { pass: 0, incomplete: 1, fail: 2 };

/**
 * What changed between two saved runs, one line per model × backend: the outcome, the worst
 * counted tensor's error relative to its tolerance (maxToleranceRatio: at most 1 within it), and
 * the tensors that now fail or now pass; then a summary line. Pairs are matched by the model's
 * label (its golden case included) and the backend; tensors by mode and label.
 */
export function formatRunComparison(baseline: ParityRun, current: ParityRun, names: { baseline: string; current: string }, useColor: boolean): string {
  const paint = (text: string, code: number) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
  const before = pairs(baseline);
  const after = pairs(current);
  const keys = [...new Set([...before.keys(), ...after.keys()])];
  const lines = [`changes from ${printable(names.baseline, 400)} to ${printable(names.current, 400)}:`];
  let [worse, better, alone] = [0, 0, 0];
  for (const key of keys) {
    const [b, a] = [before.get(key), after.get(key)];
    const where = printable(key, 400);
    if (!a || !b) {
      alone++;
      const [only, pair] = a ? [names.current, a] : [names.baseline, b!];
      lines.push(`  ${where}: only in ${printable(only, 400)} (${pair.backend.outcome})`);
      continue;
    }
    const change = RANK[a.backend.outcome] - RANK[b.backend.outcome];
    if (change > 0) worse++;
    if (change < 0) better++;
    const outcome = change === 0 ? a.backend.outcome : `${b.backend.outcome} -> ${a.backend.outcome}`;
    const parts = [`${outcome}; worst error/tolerance ${worstRatio(b.compared)} -> ${worstRatio(a.compared)}`];
    const failingBefore = failingLabels(b.compared);
    const failingNow = failingLabels(a.compared);
    const nowFail = [...failingNow].filter((t) => !failingBefore.has(t));
    const nowPass = [...failingBefore].filter((t) => !failingNow.has(t) && labels(a.compared).has(t));
    if (nowFail.length > 0) parts.push(`now failing: ${named(nowFail)}`);
    if (nowPass.length > 0) parts.push(`now passing: ${named(nowPass)}`);
    const line = `  ${where}: ${parts.join('; ')}`;
    lines.push(change > 0 ? paint(line, 31) : change < 0 ? paint(line, 32) : line);
  }
  const changed = worse + better;
  lines.push(
    `compare: ${keys.length} model × backend pairs; ${changed === 0 ? 'no outcome changed' : `${changed} changed outcome (${worse} worse, ${better} better)`}` +
      (alone > 0 ? `; ${alone} in one run only` : ''),
  );
  return lines.join('\n');
}

interface Pair {
  backend: BackendParity;
  compared: ComparedTensor[];
}

function pairs(run: ParityRun): Map<string, Pair> {
  const found = new Map<string, Pair>();
  for (const model of run.models) {
    for (const backend of model.backends) found.set(`${model.model} on ${backend.backend}`, { backend, compared: backendVerdict(backend).compared });
  }
  return found;
}

/** The largest error relative to its tolerance among counted tensors ('-' when none was compared). */
function worstRatio(compared: readonly ComparedTensor[]): string {
  const counted = compared.filter((c) => c.counted);
  return counted.length === 0 ? '-' : formatError(counted.reduce((worst, c) => Math.max(worst, c.tensor.comparison.maxToleranceRatio), 0));
}

const key = (c: ComparedTensor) => `${c.tensor.label} [${c.mode}]`;

function labels(compared: readonly ComparedTensor[]): Set<string> {
  return new Set(compared.filter((c) => c.counted).map(key));
}

function failingLabels(compared: readonly ComparedTensor[]): Set<string> {
  return new Set(compared.filter((c) => c.counted && !c.tensor.comparison.passed).map(key));
}

function named(tensors: readonly string[]): string {
  const shown = tensors.slice(0, NAMED).map((t) => printable(t, 200));
  return shown.join(', ') + (tensors.length > NAMED ? ` and ${tensors.length - NAMED} more` : '');
}
