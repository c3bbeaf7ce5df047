import { InputError, UnsupportedLayerError } from '../../errors.js';
import { isBuiltinKerasModule, isKerasObject, type KerasObject } from '../../keras/keras-object.js';
import { activation } from '../activations.js';
import { baseLayerFields } from '../base-layer-fields.js';
import { copy, droppedAtDefault, isFalse, isNullish, translateFields, type FieldRule } from '../field-rules.js';
import { constraint, initializer, regularizer } from '../keras-objects.js';
import { translateLayer } from '../translate-layer.js';
import type { TranslationContext } from '../translation-context.js';
import '../../layers/keras3/gru.js';
import '../../layers/keras3/lstm.js';
import '../../layers/keras3/simple-rnn.js';
import { findTranslator, registerTranslator, type TfjsLayerConfig } from '../translator-registry.js';

// Recurrent layers. Keras 3 and tfjs-layers agree on the weights of LSTM (kernel, recurrent_kernel,
// bias; gates i, f, c, o), SimpleRNN, and GRU with reset_after=False (gates z, r, h), and on how a
// mask is applied: at a masked timestep the states and the output carry over from the previous
// step (Keras's zero_output_for_mask=False). Where Keras computes something tfjs-layers' class
// cannot (zero_output_for_mask with return_sequences, which Keras's Bidirectional sets; GRU's
// reset_after=True, Keras 3's default; dropout, whose masks tfjs-layers' cells draw and apply
// otherwise), the layer maps to keras-bridge's class (src/layers/keras3: KerasLSTM,
// KerasSimpleRNN, KerasGRU), with the same weights.

/** Keras 3's default recurrent activation; tfjs-layers' default is hardSigmoid, another function. */
const KERAS_RECURRENT_ACTIVATION = 'sigmoid';

/** tfjs-layers' recurrent layers accept activity_regularizer but never apply it (a training loss only). */
const ignoredActivityRegularizer: FieldRule = (value, context, field) => {
  if (isNullish(value)) return { key: field, value: null };
  context.dropped(field, 'tfjs-layers recurrent layers do not apply activity regularizers; it only adds a training loss', value);
  return undefined;
};

/** Whether zero_output_for_mask changes this layer's output: only sequences are zeroed. */
function zeroesMaskedOutputs(layer: KerasObject): boolean {
  return layer.config['zero_output_for_mask'] === true && layer.config['return_sequences'] === true;
}

/** Kept for keras-bridge's classes, which implement it; elsewhere it changes nothing, and is noted. */
function zeroOutputForMask(layer: KerasObject): FieldRule {
  return (value, context, field) => {
    if (zeroesMaskedOutputs(layer)) return { key: field, value: true };
    const why = value === true ? 'only affects returned sequences, and this layer returns its last output' : 'false, which is what tfjs-layers does: masked timesteps repeat the previous output';
    context.dropped(field, why, value);
    return undefined;
  };
}

/** Fields of Keras 3's RNN base class. */
function rnnFields(layer: KerasObject): Record<string, FieldRule> {
  return {
    ...baseLayerFields,
    return_sequences: copy,
    return_state: copy,
    go_backwards: copy,
    stateful: droppedAtDefault(isFalse, 'stateful recurrent layers carry states across calls; keras-bridge converts stateless ones'),
    unroll: droppedAtDefault(() => true, 'tfjs-layers always loops over the timesteps; unrolling changes speed, not results'),
    zero_output_for_mask: zeroOutputForMask(layer),
    dropout: copy,
    recurrent_dropout: copy,
    seed: droppedAtDefault(() => true, 'only seeds training-time dropout, which tfjs-layers draws itself'),
    use_cudnn: droppedAtDefault(() => true, 'only selects a GPU kernel in Keras; the results are the same'),
  };
}

/** Fields of the cell (Keras 3 puts them on the layer's config too). */
const cellFields: Record<string, FieldRule> = {
  units: copy,
  activation,
  use_bias: copy,
  kernel_initializer: initializer,
  recurrent_initializer: initializer,
  bias_initializer: initializer,
  kernel_regularizer: regularizer,
  recurrent_regularizer: regularizer,
  bias_regularizer: regularizer,
  activity_regularizer: ignoredActivityRegularizer,
  kernel_constraint: constraint,
  recurrent_constraint: constraint,
  bias_constraint: constraint,
};

/** The recurrent activation, always written out: tfjs's default differs from Keras 3's. */
function withRecurrentActivation(config: Record<string, unknown>, context: TranslationContext): Record<string, unknown> {
  if ('recurrent_activation' in config) return config;
  context.changed('recurrent_activation', null, KERAS_RECURRENT_ACTIVATION, "Keras 3's default, written out since tfjs-layers defaults to hardSigmoid");
  return { ...config, recurrent_activation: KERAS_RECURRENT_ACTIVATION };
}

/** tfjs-layers' class, or keras-bridge's subclass of it (`Keras<name>`) when `needed` says why. */
function recurrentClass(tfjsClass: string, needed: string | undefined, context: TranslationContext): string {
  if (!needed) return tfjsClass;
  const ours = `Keras${tfjsClass}`;
  context.changed('class_name', tfjsClass, ours, `${needed}, which tfjs-layers' ${tfjsClass} cannot compute; keras-bridge's ${ours} does (same weights)`);
  return ours;
}

const ZERO_OUTPUT_REASON = 'zero_output_for_mask with return_sequences (masked timesteps output 0)';

/** Dropout as Keras applies it in training (src/layers/keras3/recurrent-dropout.ts). */
function dropoutReason(layer: KerasObject): string | undefined {
  const rates = ['dropout', 'recurrent_dropout'].filter((field) => Number(layer.config[field] ?? 0) > 0);
  return rates.length > 0 ? `${rates.join(' and ')} > 0 (Keras's masks, one per sequence and per gate with recurrent_dropout)` : undefined;
}

/** Why this layer needs keras-bridge's class, if it does. */
function kerasOnlyReason(layer: KerasObject): string | undefined {
  return zeroesMaskedOutputs(layer) ? ZERO_OUTPUT_REASON : dropoutReason(layer);
}

registerTranslator(['SimpleRNN'], (layer, context) => ({
  class_name: recurrentClass('SimpleRNN', kerasOnlyReason(layer), context),
  config: translateFields(layer.config, { ...rnnFields(layer), ...cellFields }, context),
}));

registerTranslator(['LSTM'], (layer, context) => ({
  class_name: recurrentClass('LSTM', kerasOnlyReason(layer), context),
  config: withRecurrentActivation(
    translateFields(
      layer.config,
      { ...rnnFields(layer), ...cellFields, recurrent_activation: activation, unit_forget_bias: copy },
      context,
    ),
    context,
  ),
}));

registerTranslator(['GRU'], (layer, context) => {
  // Keras 3's default reset_after=True (reset gate after the recurrent product, bias [2, 3·units]).
  const resetAfter = layer.config['reset_after'] !== false;
  const needed = resetAfter ? 'reset_after=True' : kerasOnlyReason(layer);
  const className = recurrentClass('GRU', needed, context);
  const resetAfterRule: FieldRule =
    className === 'GRU' ? droppedAtDefault(isFalse, 'tfjs-layers computes reset_after=False') : copy;
  return {
    class_name: className,
    config: withRecurrentActivation(
      translateFields(
        layer.config,
        { ...rnnFields(layer), ...cellFields, recurrent_activation: activation, reset_after: resetAfterRule },
        context,
      ),
      context,
    ),
  };
});

/** Keras's built-in cells, and the layer that is Keras's RNN wrapper of each. */
const LAYER_OF_CELL: Record<string, string> = { LSTMCell: 'LSTM', GRUCell: 'GRU', SimpleRNNCell: 'SimpleRNN' };

/**
 * `RNN(LSTMCell(n))` (GRUCell, SimpleRNNCell): Keras 3's LSTM, GRU and SimpleRNN are this wrapper
 * around that cell (same weights, same loop, the cell's fields on the layer's config), so the
 * wrapper translates as that layer with the cell's config merged into its own. Stacked, custom
 * and other cells are refused.
 */
registerTranslator(['RNN'], (layer, context) => {
  const { cell, ...rnnConfig } = layer.config;
  const layerClass = isKerasObject(cell) && isBuiltinKerasModule(cell.module) ? LAYER_OF_CELL[cell.class_name] : undefined;
  if (!isKerasObject(cell) || !layerClass) {
    const what = isKerasObject(cell) ? `a ${cell.class_name}` : 'a list of cells';
    throw new UnsupportedLayerError(
      `${context.where('cell')}: the generic RNN wrapper converts with one built-in cell (${Object.keys(LAYER_OF_CELL).join(', ')}); ` +
        `this one wraps ${what}. Use the LSTM, GRU or SimpleRNN layer (stacked: one layer per cell), or register a custom layer.`,
    );
  }
  const { name: _cellName, trainable, dtype: _cellDtype, ...cellConfig } = cell.config;
  if (trainable !== undefined && trainable !== (rnnConfig['trainable'] ?? true)) {
    throw new UnsupportedLayerError(`${context.where('cell')}: the cell's trainable (${String(trainable)}) differs from the RNN layer's; not converted.`);
  }
  context.changed('class_name', 'RNN', layerClass, `the RNN wrapper of a ${cell.class_name} is what Keras's ${layerClass} computes (same weights)`);
  context.changed('cell', cell.class_name, `${layerClass} fields`, `the cell's fields merged into the layer's config (its name '${String(cell.config['name'])}' and dtype dropped), as Keras's ${layerClass} writes them`);
  return findTranslator(layerClass)!({ ...layer, class_name: layerClass, config: { ...rnnConfig, ...cellConfig } }, context);
});

/**
 * ConvLSTM2D: tfjs-layers' has Keras's weights (kernel, recurrent_kernel, bias; gates i, f, c, o)
 * and convolves the recurrent state with 'same' padding, as Keras does. Masks are not supported
 * by either for this layer.
 */
registerTranslator(['ConvLSTM2D'], (layer, context) => ({
  class_name: 'ConvLSTM2D',
  config: withRecurrentActivation(
    translateFields(
      layer.config,
      {
        ...rnnFields(layer),
        ...cellFields,
        units: droppedAtDefault(() => true, 'not a ConvLSTM2D field'),
        filters: copy,
        kernel_size: copy,
        strides: copy,
        padding: copy,
        data_format: droppedAtDefault((v) => v === 'channels_last' || isNullish(v), "tfjs-layers' ConvLSTM2D is converted for channels_last only"),
        dilation_rate: droppedAtDefault((v) => v === 1 || (Array.isArray(v) && v.every((d) => d === 1)), 'tfjs cannot differentiate dilated convolutions'),
        recurrent_activation: activation,
        unit_forget_bias: copy,
      },
      context,
    ),
    context,
  ),
}));

/**
 * A layer nested in a wrapper's config, translated by the same translators as a top-level one;
 * its notes are recorded on the wrapper under `<field>.`.
 */
function translateNested(value: unknown, context: TranslationContext, field: string): TfjsLayerConfig {
  if (!isKerasObject(value)) {
    throw new UnsupportedLayerError(`${context.where(field)}: expected a serialized Keras layer ({class_name, config}), got ${JSON.stringify(value)}.`);
  }
  const { tfjs, conversion } = translateLayer(value, `${context.source}, in layer '${context.layerName}'`);
  for (const note of conversion.notes) context.notes.push({ ...note, field: `${field}.${note.field}` });
  return tfjs;
}

const nestedLayer: FieldRule = (value, context, field) => ({ key: field, value: translateNested(value, context, field) });

registerTranslator(['TimeDistributed'], (layer, context) => ({
  class_name: 'TimeDistributed',
  config: translateFields(layer.config, { ...baseLayerFields, layer: nestedLayer }, context),
}));

/**
 * tfjs-layers' Bidirectional builds its backward layer itself, from the forward layer's config
 * with go_backwards flipped. Keras 3 always writes its backward_layer; it is accepted when it is
 * exactly that (names aside), and refused otherwise.
 */
const backwardLayer: FieldRule = (value, context, field) =>
  isNullish(value) ? undefined : { key: BACKWARD_KEY, value: translateNested(value, context, field) };

/** Where backwardLayer parks the translated backward layer until it is compared with the forward one. */
const BACKWARD_KEY = '__backward_layer';

registerTranslator(['Bidirectional'], (layer, context) => {
  const config = translateFields(
    layer.config,
    { ...baseLayerFields, layer: nestedLayer, merge_mode: copy, backward_layer: backwardLayer },
    context,
  );
  if (config['layer'] === undefined) throw new InputError(`${context.where('layer')}: missing; a Bidirectional wraps the recurrent layer it names there.`);
  const backward = config[BACKWARD_KEY] as TfjsLayerConfig | undefined;
  delete config[BACKWARD_KEY];
  if (backward) checkMirrors(config['layer'] as TfjsLayerConfig, backward, context);
  return { class_name: 'Bidirectional', config };
});

function checkMirrors(forward: TfjsLayerConfig, backward: TfjsLayerConfig, context: TranslationContext): void {
  const comparable = (l: TfjsLayerConfig) => {
    const { name: _name, go_backwards: goBackwards, ...rest } = l.config;
    return JSON.stringify({ class_name: l.class_name, goBackwards: goBackwards === true, rest: sortKeys(rest) });
  };
  const mirrored = { ...forward, config: { ...forward.config, go_backwards: forward.config['go_backwards'] !== true } };
  if (comparable(mirrored) !== comparable(backward)) {
    throw new UnsupportedLayerError(
      `${context.where('backward_layer')}: the backward layer is configured differently from the forward layer; ` +
        `tfjs-layers' Bidirectional builds its backward layer from the forward layer's config (with go_backwards flipped), ` +
        `so a distinct backward_layer cannot be converted.`,
    );
  }
  context.dropped('backward_layer', "mirrors the forward layer; tfjs-layers' Bidirectional builds it from the forward layer's config");
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
}
