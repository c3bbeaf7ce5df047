import * as tf from '@tensorflow/tfjs';
import { compareWithGoldens } from '../compare-with-goldens.js';
import { goldenInputs, read, type ComputedTensor } from '../evaluate-model.js';
import type { ModeSection } from '../parity-result.js';
import { registerParityMode } from './mode-registry.js';
import { sharedNativeGraph } from './shared-native-graph.js';
import type { NotCompared } from './parity-mode.js';

const NAME = 'native-graph';

/** The SavedModel's outputs, keyed as the end-to-end outputs are ("output:0"), or why it did not run. */
interface NativeGraphEvaluation {
  computed: Map<string, ComputedTensor>;
  notCompared: string | null;
}

const section = (b: { modes?: Record<string, ModeSection> }): ModeSection | undefined => b.modes?.[NAME];

/**
 * The bundle's SavedModel (export --saved-model), run as one graph in TensorFlow's native runtime
 * (loadNativeGraph), its outputs compared with Keras's goldens under the end-to-end tolerances: what
 * a Node deployment that runs the graph instead of the converted layers gets. Only on the
 * `tensorflow` backend, which is that runtime; nothing on the others, and nothing for a bundle
 * exported without --saved-model. A SavedModel Keras could not write is reported, not counted.
 */
registerParityMode<NativeGraphEvaluation>({
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
  compare({ bundle, backend, policy }, evaluation, draft) {
    if (!evaluation) return;
    const tensors = evaluation.notCompared
      ? []
      : compareWithGoldens(bundle, evaluation.computed, backend, policy, (g) => g.kind === 'output').map((t) => ({ ...t, label: `native graph ${t.label}` }));
    draft.modes = { ...draft.modes, [NAME]: { tensors, notCompared: evaluation.notCompared } };
  },
  compared: (b) => (section(b)?.tensors ?? []).map((tensor) => ({ mode: NAME, tensor, counted: true })),
  notCompared: (b): NotCompared[] => {
    const why = section(b)?.notCompared;
    return why ? [{ what: 'native graph', reason: why, incomplete: false }] : [];
  },
  tableRows: true,
  summaryLines(model, b) {
    const s = section(b);
    if (!s) return [];
    if (s.notCompared) return [`${model} on ${b.backend}: native graph (SavedModel) not compared: ${s.notCompared}`];
    const failed = s.tensors.filter((t) => !t.comparison.passed).length;
    return [`${model} on ${b.backend}: native graph (SavedModel): ${s.tensors.length - failed} of ${s.tensors.length} outputs within tolerance`];
  },
  divergenceLines: () => [],
  reportGroups(b, notCompared) {
    const s = section(b);
    if (!s) return [];
    const skipped = notCompared.find((n) => n.what === 'native graph');
    return [skipped ? { name: 'native graph (SavedModel) outputs (not compared)', tensors: [], skipped: skipped.reason, rank: 15 } : { name: 'native graph (SavedModel) outputs', tensors: s.tensors, rank: 15 }];
  },
  chartSeries: [],
});
