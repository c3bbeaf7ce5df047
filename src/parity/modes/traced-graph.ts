import tf from '#tfjs';
import { weightsInKerasOrder } from '../../convert/weight-pairing.js';
import { findLayer, goldenInputs, goldenKey, read, type ComputedTensor } from '../evaluate-model.js';
import { registerParityMode } from './mode-registry.js';
import { sectionMode, type SectionEvaluation } from './section-mode.js';

const NAME = 'traced-graph';
const WHAT = 'traced graph';

/**
 * The converted model traced into one TensorFlow graph (docs/native-graph.md, "Traced") and run
 * by TensorFlow's runtime: its outputs and the gradients of the goldens' loss with respect to the
 * float inputs and every trainable weight with a golden, computed in that one graph with the weights
 * fed, against Keras's goldens under the end-to-end tolerances. What a Node user who runs
 * traceModelNativeGraph gets. Only on the `tensorflow` backend. A model that cannot be traced (a
 * kernel computes on the host from its inputs' values) is reported with the reason, not counted.
 */
registerParityMode<SectionEvaluation>({
  name: NAME,
  title: 'traced graph',
  async evaluate({ model, bundle }) {
    if (tf.getBackend() !== 'tensorflow') return null;
    // Imported here: the parity modes also run in browser pages, where Node's backend never is.
    const { traceNativeGraph, TraceError } = await import('../../native/traced-graph/traced-native-graph.js');
    const { inputs, cotangents } = goldenInputs(bundle);
    const gradGoldens = bundle.manifest.goldens.tensors.filter((g) => g.kind === 'grad_weight');
    const weights = gradGoldens.map((g) => (g.kind === 'grad_weight' ? weightsInKerasOrder(findLayer(model, g.layer, bundle), bundle)[g.index] : undefined));
    const floatInputs = inputs.flatMap((x, i) => (x.dtype === 'float32' ? [i] : []));
    const hasGradientGoldens = bundle.manifest.goldens.tensors.some((g) => g.kind === 'grad_input' || g.kind === 'grad_weight') && weights.every((w) => w?.trainable);
    const outputCount = model.outputs.length;
    // Outputs, then (withGradients) d loss / d float input, then d loss / d weight in the goldens' order.
    const runOf = (withGradients: boolean) => (fed: readonly tf.Tensor[]): tf.Tensor[] => {
      const xs = fed.slice(0, inputs.length);
      const cots = fed.slice(inputs.length);
      if (!withGradients) return [model.predict(xs.length === 1 ? xs[0]! : [...xs])].flat() as tf.Tensor[];
      const variables = weights.map((w) => w!.read());
      const sources = [...floatInputs.map((i) => xs[i]!), ...variables];
      let outputs: tf.Tensor[] = [];
      const { grads } = tf.engine().gradients(
        () => {
          const out = model.apply(xs.length === 1 ? xs[0]! : [...xs], { training: false }) as tf.Tensor | tf.Tensor[];
          outputs = (Array.isArray(out) ? out : [out]).map((o) => tf.keep(o));
          return tf.addN(outputs.map((o, i) => tf.sum(tf.mul(o, cots[i]!)))) as tf.Scalar;
        },
        sources,
        undefined,
        true,
      );
      // A source the loss does not depend on has no gradient; Keras records zeros.
      return [...outputs, ...sources.map((s, k) => grads[k] ?? tf.zerosLike(s))];
    };
    const computed = new Map<string, ComputedTensor>();
    let graph: ReturnType<typeof traceNativeGraph> | undefined;
    const trace = (withGradients: boolean) => traceNativeGraph(runOf(withGradients), [...inputs, ...cotangents], { parameters: model.weights.map((w) => w.read()) });
    let withGradients = hasGradientGoldens;
    try {
      try {
        graph = trace(withGradients);
      } catch (error) {
        // tfjs cannot differentiate the model (the end-to-end mode says why and marks the run incomplete): its outputs alone.
        if (error instanceof TraceError || !withGradients) throw error;
        withGradients = false;
        graph = trace(false);
      }
      const produced = graph.execute([...inputs, ...cotangents]);
      try {
        for (let i = 0; i < outputCount; i++) computed.set(`output:${i}`, await read(produced[i]!));
        if (withGradients) {
          for (const [k, i] of floatInputs.entries()) computed.set(`grad_input:${i}`, await read(produced[outputCount + k]!));
          for (const [k, g] of gradGoldens.entries()) computed.set(goldenKey(g), await read(produced[outputCount + floatInputs.length + k]!));
        }
      } finally {
        tf.dispose(produced);
      }
      return { computed, notCompared: null };
    } catch (error) {
      if (error instanceof TraceError) return { computed, notCompared: error.message };
      throw error;
    } finally {
      graph?.dispose();
      tf.dispose([...inputs, ...cotangents]);
    }
  },
  ...sectionMode({
    name: NAME,
    what: WHAT,
    summaryTitle: 'traced graph',
    noun: 'outputs and gradients',
    group: 'traced graph outputs and gradients',
    rank: 17,
    labelPrefix: 'traced graph',
    compares: (g, evaluation) => evaluation.computed.has(goldenKey(g)),
  }),
});
