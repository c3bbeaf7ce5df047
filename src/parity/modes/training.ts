import { passLines } from '../../report/pass-divergence-lines.js';
import { trainingModeLines } from '../../report/training-lines.js';
import { compareTrainingMode } from '../compare-training.js';
import { evaluateTrainingMode, type TrainingModeEvaluation } from '../evaluate-training.js';
import { firstDivergingLayer, firstDivergingLayerBackward } from '../first-diverging-layer.js';
import type { TensorParity } from '../parity-result.js';
import { registerParityMode } from './mode-registry.js';
import type { ReportGroup } from './parity-mode.js';
import { reportGroup } from './report-group.js';

const FORWARD: ReadonlySet<TensorParity['kind']> = new Set(['output', 'layer_output', 'weight_after_pass']);

/**
 * Training mode: the model called with training=true, Keras's random draws replayed into the tfjs
 * layers: outputs, layer outputs, the state after the pass (moving statistics) and gradients,
 * localized as inference is. Draws that cannot be replayed leave it reported as not compared.
 */
registerParityMode<TrainingModeEvaluation>({
  name: 'training',
  title: 'training mode',
  evaluate: ({ model, bundle }) => evaluateTrainingMode(model, bundle),
  compare({ bundle, backend, policy, layerOrder, inputsOf }, evaluation, draft) {
    const compared = compareTrainingMode(bundle, evaluation, backend, policy);
    if (!compared) return;
    draft.training = {
      ...compared,
      firstDivergingLayer: firstDivergingLayer(compared.tensors, layerOrder, inputsOf),
      firstDivergingLayerBackward: firstDivergingLayerBackward(compared.tensors, layerOrder, inputsOf),
    };
  },
  compared: (b) => (b.training?.tensors ?? []).map((tensor) => ({ mode: 'training', tensor, counted: true })),
  notCompared: (b) => [
    ...(b.training?.notCompared ? [{ what: 'training', reason: b.training.notCompared, incomplete: false }] : []),
    ...(b.training?.gradientsNotCompared ? [{ what: 'training gradients', reason: b.training.gradientsNotCompared, incomplete: true }] : []),
  ],
  tableRows: true,
  summaryLines: trainingModeLines,
  divergenceLines: (model, b) =>
    passLines(
      `${model} on ${b.backend}, training mode`,
      'its output or its state after the pass out of tolerance while its inputs were within it',
      b.training?.firstDivergingLayer,
      b.training?.firstDivergingLayerBackward,
    ),
  reportGroups(b, notCompared): ReportGroup[] {
    if (!b.training) return [];
    const training = notCompared.find((n) => n.what === 'training');
    if (training) return [{ name: 'training mode (not compared)', tensors: [], skipped: training.reason, rank: 80 }];
    return [
      reportGroup('training mode: outputs, layer outputs, weights after the pass', 80, b.training.tensors.filter((t) => FORWARD.has(t.kind))),
      reportGroup('training mode: gradients', 90, b.training.tensors.filter((t) => !FORWARD.has(t.kind)), notCompared, 'training gradients'),
    ];
  },
  chartSeries: [
    {
      cls: 'train',
      legend: 'training mode: layer output or state after the pass',
      marker: 'diamond',
      hollow: false,
      tensors: (b) => (b.training?.tensors ?? []).filter((t) => t.kind === 'layer_output' || t.kind === 'weight_after_pass'),
      rank: 60,
    },
  ],
});
