import { afterTrainingLines } from '../../report/training-lines.js';
import { compareAfterTraining } from '../compare-training.js';
import { evaluateAfterTraining, type AfterTrainingEvaluation } from '../evaluate-after-training.js';
import { registerParityMode } from './mode-registry.js';
import type { NotCompared, ReportGroup } from './parity-mode.js';

/**
 * Parity after training: a fresh copy of the model takes the bundle's optimizer steps with the
 * TypeScript optimizer(s) standing for Keras's, and each trainable weight's change is compared.
 * A run marked not counted (a known difference, tfjs's stock Adam) is reported, never a failure.
 */
registerParityMode<AfterTrainingEvaluation>({
  name: 'after-training',
  title: 'after training',
  evaluate: ({ loadModel, bundle }) => evaluateAfterTraining(loadModel, bundle),
  compare({ bundle, backend, policy }, evaluation, draft) {
    const compared = compareAfterTraining(bundle, evaluation, backend, policy);
    if (compared) draft.afterTraining = compared;
  },
  compared: (b) => (b.afterTraining?.optimizers ?? []).flatMap((o) => o.tensors.map((tensor) => ({ mode: 'after-training', tensor, counted: o.counted }))),
  notCompared(b) {
    const found: NotCompared[] = [];
    if (b.afterTraining?.notCompared) found.push({ what: 'after training', reason: b.afterTraining.notCompared, incomplete: false });
    for (const o of b.afterTraining?.optimizers ?? []) {
      if (o.notCompared) found.push({ what: 'optimizer', optimizer: `${o.optimizer} with ${o.implementation}`, reason: o.notCompared, incomplete: false });
    }
    return found;
  },
  tableRows: true,
  summaryLines: afterTrainingLines,
  divergenceLines: () => [],
  reportGroups(b, notCompared): ReportGroup[] {
    const after = b.afterTraining;
    if (!after) return [];
    const groups: ReportGroup[] = [];
    const skipped = notCompared.find((n) => n.what === 'after training');
    if (skipped) groups.push({ name: `after ${after.steps} optimizer steps (not compared)`, tensors: [], skipped: skipped.reason, rank: 100 });
    for (const o of after.optimizers) {
      const name = `after ${after.steps} ${o.optimizer} steps, ${o.implementation}`;
      const run = notCompared.find((n) => n.what === 'optimizer' && n.optimizer === `${o.optimizer} with ${o.implementation}`);
      if (run) groups.push({ name: `${name} (not compared)`, tensors: [], skipped: run.reason, rank: 100 });
      else if (!o.counted) groups.push({ name: `${name} (not counted)`, tensors: [], skipped: `${o.note ?? 'informational'}; ${o.passed ? 'within' : 'outside'} tolerance`, rank: 100 });
      else groups.push({ name: `${name}: change of each trainable weight`, tensors: o.tensors, rank: 100 });
    }
    return groups;
  },
  chartSeries: [],
});
