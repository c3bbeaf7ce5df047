import tf from '#tfjs';
import { goldenInputs, goldenKey, read, type ComputedTensor } from '../evaluate-model.js';
import { registerParityMode } from './mode-registry.js';
import { sectionMode, type SectionEvaluation } from './section-mode.js';
import { sharedNativeGraph } from './shared-native-graph.js';

const NAME = 'native-graph-gradients';
const WHAT = 'native graph gradients';

/**
 * The bundle's SavedModel's `gradients` endpoint (docs/native-graph.md, "Gradients"), fed the golden
 * inputs and cotangents and the bundle's weights, in TensorFlow's native runtime: its input and weight
 * gradients against Keras's goldens under the end-to-end tolerances. What a Node user who computes
 * gradients (or trains) through the native graph gets. Only on the `tensorflow` backend; nothing
 * where the native-graph mode has nothing (no SavedModel, or one Keras could not write: that mode
 * says why); a SavedModel without the endpoint is reported, not counted.
 */
registerParityMode<SectionEvaluation>({
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
  ...sectionMode({
    name: NAME,
    what: WHAT,
    summaryTitle: 'native graph gradients (SavedModel)',
    noun: 'gradients',
    group: 'native graph (SavedModel) gradients',
    rank: 16,
    labelPrefix: 'native graph',
    compares: (g, evaluation) => evaluation.computed.has(goldenKey(g)),
  }),
});
