import type { BackendParity, TensorParity } from '../parity/parity-result.js';
import { formatError } from './format-number.js';

/** The terminal report's line on training mode, for one model on one backend (none without training-mode goldens). */
export function trainingModeLines(model: string, b: BackendParity, paint: (text: string, code: number) => string): string[] {
  const lines: string[] = [];
  const training = b.training;
  if (training) {
    const head = `${model} on ${b.backend}, training mode:`;
    const failing = training.tensors.filter((t) => !t.comparison.passed).map((t) => t.label.replace(/^training: /, ''));
    const noGradients = training.gradientsNotCompared ? `; gradients NOT compared: ${training.gradientsNotCompared}` : '';
    if (training.notCompared !== null) lines.push(paint(`${head} not compared: ${training.notCompared}`, 33));
    else if (failing.length === 0) {
      const text = `${head} ${training.tensors.length} tensors compared (${training.randomDraws} random draws replayed from Keras), all pass${noGradients}`;
      lines.push(noGradients ? paint(text, 33) : text);
    } else lines.push(paint(`${head} out of tolerance: ${failing.join(', ')}${noGradients}`, 31));
  }
  return lines;
}

/** The terminal report's lines on parity after training, one per optimizer run, for one model on one backend. */
export function afterTrainingLines(model: string, b: BackendParity, paint: (text: string, code: number) => string): string[] {
  const lines: string[] = [];
  const after = b.afterTraining;
  if (after) {
    const head = `${model} on ${b.backend}, after ${after.steps} optimizer steps:`;
    if (after.notCompared !== null) lines.push(paint(`${head} not compared: ${after.notCompared}`, 33));
    for (const o of after.optimizers) {
      const what = `${head} ${o.optimizer} with ${o.implementation}`;
      if (o.notCompared !== null) {
        lines.push(paint(`${what}: not compared: ${o.notCompared}`, 33));
        continue;
      }
      const worst = o.tensors.reduce((w, t) => (t.comparison.maxToleranceRatio > (w?.comparison.maxToleranceRatio ?? -1) ? t : w), undefined as TensorParity | undefined);
      const figures = worst ? `worst change error ${formatError(worst.comparison.maxAbsError)} (${worst.label.replace(/^.*: /, '')}, ${formatError(worst.comparison.maxRelError)} relative)` : 'no weights';
      const loss = `loss ${o.losses.keras.at(-1)?.toPrecision(6)} in Keras, ${o.losses.tfjs.at(-1)?.toPrecision(6)} in tfjs before the last step`;
      const verdict = o.passed ? 'all weights within tolerance' : `${o.tensors.filter((t) => !t.comparison.passed).length} of ${o.tensors.length} weights out of tolerance`;
      const text = `${what}: ${verdict}; ${figures}; ${loss}${o.counted ? '' : ` [${o.note ?? 'informational'}]`}`;
      lines.push(o.passed ? text : paint(text, o.counted ? 31 : 33));
    }
  }
  return lines;
}
