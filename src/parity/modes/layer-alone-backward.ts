import { isolatedGradientsLine } from '../../report/isolated-gradients-line.js';
import { compareIsolatedGradients } from '../compare-isolated-gradients.js';
import { evaluateLayerGradientsInIsolation, type IsolatedGradientEvaluation } from '../isolated-gradients.js';
import { NO_ISOLATED_GRADIENTS, NO_ISOLATED_OUTPUTS } from './isolated-section.js';
import { registerParityMode } from './mode-registry.js';
import { reportGroup } from './report-group.js';

/**
 * Each layer's backward pass alone: Keras's output gradient backpropagated through the layer on
 * Keras's inputs, compared with Keras's weight gradients and the gradient it sends back.
 */
registerParityMode<IsolatedGradientEvaluation>({
  name: 'layer-alone-backward',
  title: 'layer alone, backward',
  evaluate: ({ model, bundle }) => evaluateLayerGradientsInIsolation(model, bundle),
  compare({ bundle, backend, policy, layerOrder }, evaluation, draft) {
    const gradients = evaluation ? compareIsolatedGradients(bundle, evaluation, backend, policy, layerOrder) : NO_ISOLATED_GRADIENTS;
    draft.isolated = { ...(draft.isolated ?? NO_ISOLATED_OUTPUTS), gradients };
  },
  compared: (b) => b.isolated.gradients.tensors.map((tensor) => ({ mode: 'layer-alone-backward', tensor, counted: true })),
  notCompared: (b) => (b.isolated.gradients.unavailable ? [{ what: 'layer-alone gradients', reason: b.isolated.gradients.unavailable, incomplete: false }] : []),
  tableRows: false,
  summaryLines: (model, b, paint) => [isolatedGradientsLine(model, b, paint)],
  divergenceLines: () => [],
  reportGroups: (b, notCompared) => [reportGroup('backward pass, each layer alone', 40, b.isolated.gradients.tensors, notCompared, 'layer-alone gradients')],
  chartSeries: [{ cls: 'back-alone', legend: 'backward pass, layer run alone', marker: 'square', hollow: true, tensors: (b) => b.isolated.gradients.tensors, rank: 50 }],
});
