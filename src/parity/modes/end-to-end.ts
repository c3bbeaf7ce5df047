import { gradientsNotComparedLines } from '../../report/gradients-not-compared-line.js';
import { passLines } from '../../report/pass-divergence-lines.js';
import { compareWithGoldens } from '../compare-with-goldens.js';
import { evaluateModel, isGradient, type ModelEvaluation } from '../evaluate-model.js';
import { firstDivergingLayer, firstDivergingLayerBackward } from '../first-diverging-layer.js';
import type { TensorParity } from '../parity-result.js';
import { registerParityMode } from './mode-registry.js';
import { reportGroup } from './report-group.js';

const ofKind = (tensors: TensorParity[], kind: TensorParity['kind']) => tensors.filter((t) => t.kind === kind);

/**
 * The whole model at inference: outputs, every layer output, and the gradients of the bundle's
 * loss with respect to the inputs, the trainable weights and the layer outputs. When tfjs cannot
 * differentiate a layer, the forward tensors are still compared and the outcome is 'incomplete'.
 */
registerParityMode<ModelEvaluation>({
  name: 'end-to-end',
  title: 'end to end',
  evaluate: ({ model, bundle }) => evaluateModel(model, bundle),
  compare({ bundle, backend, policy, layerOrder, inputsOf }, evaluation, draft) {
    const gradientsNotCompared = evaluation?.gradientsNotCompared ?? null;
    const tensors = compareWithGoldens(bundle, evaluation?.computed ?? new Map(), backend, policy, (g) => gradientsNotCompared === null || !isGradient(g));
    Object.assign(draft, {
      gradientsNotCompared,
      firstDivergingLayer: firstDivergingLayer(tensors, layerOrder, inputsOf),
      firstDivergingLayerBackward: firstDivergingLayerBackward(tensors, layerOrder, inputsOf),
      tensors,
    });
  },
  compared: (b) => b.tensors.map((tensor) => ({ mode: 'end-to-end', tensor, counted: true })),
  notCompared: (b) => (b.gradientsNotCompared ? [{ what: 'gradients', reason: b.gradientsNotCompared, incomplete: true }] : []),
  tableRows: true,
  summaryLines: gradientsNotComparedLines,
  divergenceLines: (model, b) =>
    passLines(`${model} on ${b.backend}`, 'out of tolerance while its inputs were within it', b.firstDivergingLayer, b.firstDivergingLayerBackward),
  reportGroups: (b, notCompared) => [
    reportGroup('outputs', 10, ofKind(b.tensors, 'output')),
    reportGroup('layer outputs', 20, ofKind(b.tensors, 'layer_output')),
    reportGroup('gradients wrt inputs', 50, ofKind(b.tensors, 'grad_input'), notCompared, 'gradients'),
    reportGroup('gradients wrt weights', 60, ofKind(b.tensors, 'grad_weight'), notCompared, 'gradients'),
    reportGroup('gradients wrt layer outputs', 70, ofKind(b.tensors, 'grad_layer_output'), notCompared, 'gradients'),
  ],
  chartSeries: [
    { cls: 'out', legend: 'layer output', marker: 'circle', hollow: false, tensors: (b) => ofKind(b.tensors, 'layer_output'), rank: 10 },
    { cls: 'dy', legend: 'output gradient dL/dy', marker: 'triangle', hollow: false, tensors: (b) => ofKind(b.tensors, 'grad_layer_output'), rank: 30 },
    { cls: 'grad', legend: 'weight gradients', marker: 'square', hollow: false, tensors: (b) => ofKind(b.tensors, 'grad_weight'), rank: 40 },
  ],
});
