import * as tf from '@tensorflow/tfjs';
import { compareWithGoldens } from '../compare-with-goldens.js';
import { goldenInputs, goldenKey, read, type ComputedTensor } from '../evaluate-model.js';
import type { ModeSection } from '../parity-result.js';
import { registerParityMode } from './mode-registry.js';
import { sharedNativeGraph } from './shared-native-graph.js';
import type { NotCompared } from './parity-mode.js';

const NAME = 'native-graph-gradients';
const WHAT = 'native graph gradients';

/** The gradients endpoint's gradients, keyed as the goldens are ("grad_weight:layer:0"), or why it did not run. */
interface NativeGradientsEvaluation {
  computed: Map<string, ComputedTensor>;
  notCompared: string | null;
}

const section = (b: { modes?: Record<string, ModeSection> }): ModeSection | undefined => b.modes?.[NAME];

/**
 * The bundle's SavedModel's `gradients` endpoint (docs/native-graph.md, "Gradients"), fed the golden
 * inputs and cotangents and the bundle's weights, in TensorFlow's native runtime: its input and weight
 * gradients against Keras's goldens under the end-to-end tolerances. What a Node user who computes
 * gradients (or trains) through the native graph gets. Only on the `tensorflow` backend; nothing
 * where the native-graph mode has nothing (no SavedModel, or one Keras could not write: that mode
 * says why); a SavedModel without the endpoint is reported, not counted.
 */
registerParityMode<NativeGradientsEvaluation>({
  name: NAME,
  title: 'native graph gradients (SavedModel)',
  async evaluate({ bundle, shared }) {
    const record = bundle.manifest.saved_model;
    if (!record || record.status !== 'exported' || tf.getBackend() !== 'tensorflow') return null;
    const { bundleWeightTensors } = await import('../../native/native-graph.js');
    const graph = await sharedNativeGraph(shared, bundle);
    if (graph.gradientsUnavailable) return { computed: new Map(), notCompared: graph.gradientsUnavailable };
    const { inputs, cotangents } = goldenInputs(bundle);
    const weights = bundleWeightTensors(bundle);
    const computed = new Map<string, ComputedTensor>();
    try {
      const { outputs, inputGradients, weightGradients } = graph.gradients(inputs, cotangents, weights);
      const produced = [...outputs, ...inputGradients, ...weightGradients].filter((t): t is tf.Tensor => t !== undefined);
      try {
        for (const [index, g] of inputGradients.entries()) if (g) computed.set(`grad_input:${index}`, await read(g));
        for (const [k, g] of weightGradients.entries()) {
          const weight = bundle.manifest.weights[k]!;
          if (g) computed.set(`grad_weight:${weight.layer}:${weight.index}`, await read(g));
        }
      } finally {
        tf.dispose(produced);
      }
    } finally {
      tf.dispose([...inputs, ...cotangents, ...weights]);
    }
    return { computed, notCompared: null };
  },
  compare({ bundle, backend, policy }, evaluation, draft) {
    if (!evaluation) return;
    const tensors = evaluation.notCompared
      ? []
      : compareWithGoldens(bundle, evaluation.computed, backend, policy, (g) => evaluation.computed.has(goldenKey(g))).map((t) => ({ ...t, label: `native graph ${t.label}` }));
    draft.modes = { ...draft.modes, [NAME]: { tensors, notCompared: evaluation.notCompared } };
  },
  compared: (b) => (section(b)?.tensors ?? []).map((tensor) => ({ mode: NAME, tensor, counted: true })),
  notCompared: (b): NotCompared[] => {
    const why = section(b)?.notCompared;
    return why ? [{ what: WHAT, reason: why, incomplete: false }] : [];
  },
  tableRows: true,
  summaryLines(model, b) {
    const s = section(b);
    if (!s) return [];
    if (s.notCompared) return [`${model} on ${b.backend}: native graph gradients (SavedModel) not compared: ${s.notCompared}`];
    const failed = s.tensors.filter((t) => !t.comparison.passed).length;
    return [`${model} on ${b.backend}: native graph gradients (SavedModel): ${s.tensors.length - failed} of ${s.tensors.length} gradients within tolerance`];
  },
  divergenceLines: () => [],
  reportGroups(b, notCompared) {
    const s = section(b);
    if (!s) return [];
    const skipped = notCompared.find((n) => n.what === WHAT);
    return [skipped ? { name: 'native graph (SavedModel) gradients (not compared)', tensors: [], skipped: skipped.reason, rank: 16 } : { name: 'native graph (SavedModel) gradients', tensors: s.tensors, rank: 16 }];
  },
  chartSeries: [],
});
