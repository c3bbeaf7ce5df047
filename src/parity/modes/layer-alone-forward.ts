import { isolatedLine } from '../../report/isolated-line.js';
import { compareWithGoldens } from '../compare-with-goldens.js';
import { evaluateLayersInIsolation, type IsolatedEvaluation } from '../evaluate-isolated.js';
import { goldenKey } from '../evaluate-model.js';
import { registerParityMode } from './mode-registry.js';
import { reportGroup } from './report-group.js';
import { NO_ISOLATED_GRADIENTS } from './isolated-section.js';

/**
 * Each layer run alone on Keras's own outputs of the layers feeding it, so that an error upstream
 * neither hides nor causes one downstream: a layer out of tolerance here is itself at fault.
 */
registerParityMode<IsolatedEvaluation>({
  name: 'layer-alone-forward',
  title: 'layer alone, forward',
  evaluate: ({ model, bundle }) => evaluateLayersInIsolation(model, bundle),
  compare({ bundle, backend, policy, layerOrder }, evaluation, draft) {
    const computed = evaluation?.computed ?? new Map();
    const tensors = compareWithGoldens(bundle, computed, backend, policy, (g) => computed.has(goldenKey(g)), true).map((t) => ({ ...t, label: `${t.label} (isolated)` }));
    const failing = new Set(tensors.filter((t) => !t.comparison.passed).map((t) => t.layer!));
    draft.isolated = {
      tensors,
      failingLayers: layerOrder.filter((l) => failing.has(l)),
      skipped: evaluation?.skipped ?? [],
      gradients: draft.isolated?.gradients ?? NO_ISOLATED_GRADIENTS,
    };
  },
  compared: (b) => b.isolated.tensors.map((tensor) => ({ mode: 'layer-alone-forward', tensor, counted: true })),
  notCompared: () => [],
  tableRows: false,
  summaryLines: (model, b, paint) => [isolatedLine(model, b, paint)],
  divergenceLines: () => [],
  reportGroups: (b) => [reportGroup('layer outputs, each layer alone', 30, b.isolated.tensors)],
  chartSeries: [{ cls: 'alone', legend: 'layer output, layer run alone', marker: 'circle', hollow: true, tensors: (b) => b.isolated.tensors, rank: 20 }],
});
