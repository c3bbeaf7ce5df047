import tf from '#tfjs';
import { goldenInputs, read, type ComputedTensor } from '../evaluate-model.js';
import { registerParityMode } from './mode-registry.js';
import { sectionMode, type SectionEvaluation } from './section-mode.js';
import { sharedNativeGraph } from './shared-native-graph.js';

const NAME = 'native-graph';

/**
 * The bundle's SavedModel (export --saved-model), run as one graph in TensorFlow's native runtime
 * (loadNativeGraph), its outputs compared with Keras's goldens under the end-to-end tolerances: what
 * a Node deployment that runs the graph instead of the converted layers gets. Only on the
 * `tensorflow` backend, which is that runtime; nothing on the others, and nothing for a bundle
 * exported without --saved-model. A SavedModel Keras could not write is reported, not counted.
 */
registerParityMode<SectionEvaluation>({
  name: NAME,
  title: 'native graph (SavedModel)',
  async evaluate({ bundle, shared }) {
    const record = bundle.manifest.saved_model;
    if (!record || tf.getBackend() !== 'tensorflow') return null;
    if (record.status === 'skipped') return { computed: new Map(), notCompared: `no SavedModel in the bundle: ${record.reason}` };
    const graph = await sharedNativeGraph(shared, bundle);
    const { inputs, cotangents } = goldenInputs(bundle);
    const computed = new Map<string, ComputedTensor>();
    try {
      const outputs = graph.predict(inputs);
      try {
        for (const [i, output] of outputs.entries()) computed.set(`output:${i}`, await read(output));
      } finally {
        tf.dispose(outputs);
      }
    } finally {
      tf.dispose([...inputs, ...cotangents]);
    }
    return { computed, notCompared: null };
  },
  ...sectionMode({
    name: NAME,
    what: 'native graph',
    summaryTitle: 'native graph (SavedModel)',
    noun: 'outputs',
    group: 'native graph (SavedModel) outputs',
    rank: 15,
    labelPrefix: 'native graph',
    compares: (g) => g.kind === 'output',
  }),
});
