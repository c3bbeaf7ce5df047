import { parityMode } from '../parity/modes/index.js';
import type { ComparedTensor } from '../parity/parity-verdict.js';
import { formatError } from './format-number.js';

/**
 * "sequential_2 › layer dense_3 on wasm: 3 / 128 elements (2.3%) out of tolerance; worst ...;
 * atol ... would have passed at rtol ... (end to end, layer dense_3)": the tensor, the worst
 * element, the smallest atol that would have passed, then the mode and the layer.
 */
export function describeFailure(model: string, backend: string, failure: ComparedTensor): string {
  const { tensor: t, mode } = failure;
  const c = t.comparison;
  const head = `${model} › ${t.label} on ${backend}:`;
  const where = `(${parityMode(mode).title}${t.layer ? `, layer ${t.layer}` : ''})`;
  if (c.shapeMismatch) return `${head} ${c.shapeMismatch} ${where}`;
  const parts = [`${head} ${c.mismatches} / ${c.elements} elements (${((100 * c.mismatches) / Math.max(1, c.elements)).toFixed(1)}%) out of tolerance`];
  if (c.nonFiniteActual > 0) parts.push(`${c.nonFiniteActual} NaN/Inf in tfjs output`);
  if (c.nonFiniteExpected > 0) parts.push(`${c.nonFiniteExpected} NaN/Inf in Keras golden`);
  if (c.worst) {
    parts.push(
      `worst at index [${c.worst.index.join(', ')}]: tfjs ${c.worst.actual.toPrecision(8)} vs Keras ${c.worst.expected.toPrecision(8)} ` +
        `(|diff| ${formatError(Math.abs(c.worst.actual - c.worst.expected))}, up to ${formatError(c.worst.allowed)} allowed)`,
    );
  }
  parts.push(`atol ${formatError(c.minPassingAtol)} would have passed at rtol ${formatError(c.tolerance.rtol)} ${where}`);
  return parts.join('; ');
}
