import { UnsupportedLayerError } from '../errors.js';
import type { TensorKwarg } from '../layers/keras3/call-arguments.js';
import type { LayerConversion } from './conversion-report.js';
import type { TfjsLayerConfig } from './translator-registry.js';

const RECURRENT_KWARGS = ['mask', 'initial_state'];

/** CallArguments.className (src/layers/keras3/call-arguments.ts), not imported: layer-support.ts reads this module before tfjs's own classes are listed. */
const CALL_ARGUMENTS_CLASS = 'KerasBridgeCallArguments';

/**
 * The tensor call kwargs each tfjs class reads from call()'s kwargs, so that an adapter passing
 * them changes what it computes. A custom layer's TypeScript twin reads whatever its Python call()
 * takes, so every kwarg is passed to it.
 */
export const TENSOR_KWARGS_READ: Readonly<Record<string, readonly string[]>> = {
  LSTM: RECURRENT_KWARGS,
  GRU: RECURRENT_KWARGS,
  SimpleRNN: RECURRENT_KWARGS,
  KerasLSTM: RECURRENT_KWARGS,
  KerasGRU: RECURRENT_KWARGS,
  KerasSimpleRNN: RECURRENT_KWARGS,
  KerasMultiHeadAttention: ['attention_mask'],
  KerasAttention: ['mask'],
};

/**
 * Conversions that read every tensor kwarg the Keras call passed: a registered TypeScript twin
 * reads what its Python call() takes; a graph-fallback layer's graph was traced with each of the
 * call's tensor kwargs as an input (python/keras_bridge/graph_fallback.py).
 */
const MAPPINGS_READING_EVERY_KWARG: ReadonlySet<LayerConversion['mapping']> = new Set(['custom', 'graph', 'translated']);

/**
 * A layer called with tensor keyword arguments (`LSTM(8)(x, mask=m)`) becomes a
 * KerasBridgeCallArguments adapter of the same name around it, whose extra inputs are those
 * tensors (functional-graph.ts appends them to each node). Refused, naming the layer and the
 * kwarg, when the tfjs class would ignore the kwarg.
 */
export function withCallArguments(
  tfjs: TfjsLayerConfig,
  conversion: LayerConversion,
  tensorKwargs: TensorKwarg[],
  positionalArguments: number,
  source: string,
): TfjsLayerConfig {
  if (tensorKwargs.length === 0) return tfjs;
  if (!MAPPINGS_READING_EVERY_KWARG.has(conversion.mapping)) {
    const read = TENSOR_KWARGS_READ[tfjs.class_name] ?? [];
    const ignored = tensorKwargs.find((k) => !read.includes(k.keras));
    if (ignored) {
      const readable = read.length > 0 ? `keras-bridge passes only ${read.join(', ')} to it` : 'it takes no tensor keyword arguments in keras-bridge';
      throw new UnsupportedLayerError(
        `${source}: layer '${conversion.name}' (${conversion.kerasClass}) is called with the tensor keyword argument ` +
          `'${ignored.keras}', which its tfjs implementation ${tfjs.class_name} would ignore (${readable}). ` +
          `Pass it as a positional input of a layer that uses it, or compute it inside a custom layer.`,
      );
    }
  }
  const { name, trainable, dtype } = tfjs.config;
  return {
    class_name: CALL_ARGUMENTS_CLASS,
    config: {
      name,
      ...(trainable === undefined ? {} : { trainable }),
      ...(dtype === undefined ? {} : { dtype }),
      layer: tfjs,
      positional_arguments: positionalArguments,
      tensor_kwargs: tensorKwargs,
    },
  };
}
