import type { KerasObject } from '../keras-object.js';
import { modelLayerItems } from './saved-object-names.js';

/**
 * Where a Keras layer keeps weights in sub-objects. Keras 3's model.weights.h5 stores a layer's own
 * variables under `vars/` and each sub-layer under the *attribute name* that holds it
 * (`forward_layer`, `cell`, `query_dense`, …), sorted by name; `layer.weights` lists the own
 * variables first, then the sub-layers in the order they were assigned. That order is not in the
 * file, so it is recorded here per class.
 */
export interface SublayerSlot {
  /** The attribute, which is the h5 group's name under the layer's group. */
  attribute: string;
  /** The sub-layer's config, when the parent's config holds it (to look inside the sub-layer). */
  config?: (parent: KerasObject) => unknown;
  /**
   * For an attribute holding a list of layers: their configs in list order, whose groups Keras
   * names as saved-object-names.ts's containerKeys does.
   */
  items?: (parent: KerasObject) => unknown[];
}

const field = (name: string) => (parent: KerasObject) => parent.config[name];
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const cellOf = (rnn: KerasObject): unknown => rnn.config['cell'];

const RNN_SLOTS: SublayerSlot[] = [{ attribute: 'cell', config: cellOf }];
const WRAPPER_SLOTS: SublayerSlot[] = [{ attribute: 'layer', config: field('layer') }];

const SUBLAYER_SLOTS: Record<string, SublayerSlot[]> = {
  Sequential: [{ attribute: 'layers', items: modelLayerItems }],
  Functional: [{ attribute: 'layers', items: modelLayerItems }],
  Model: [{ attribute: 'layers', items: modelLayerItems }],
  RNN: RNN_SLOTS,
  LSTM: RNN_SLOTS,
  GRU: RNN_SLOTS,
  SimpleRNN: RNN_SLOTS,
  ConvLSTM1D: RNN_SLOTS,
  ConvLSTM2D: RNN_SLOTS,
  ConvLSTM3D: RNN_SLOTS,
  StackedRNNCells: [{ attribute: 'cells', items: (stacked) => list(stacked.config['cells']) }],
  Bidirectional: [
    { attribute: 'forward_layer', config: field('layer') },
    { attribute: 'backward_layer', config: (b) => b.config['backward_layer'] ?? b.config['layer'] },
  ],
  TimeDistributed: WRAPPER_SLOTS,
  MultiHeadAttention: ['query_dense', 'key_dense', 'value_dense', 'output_dense'].map((attribute) => ({ attribute })),
};

/** The sub-layer slots of a Keras class, in `layer.weights` order; undefined for classes not listed. */
export function sublayerSlots(className: string): readonly SublayerSlot[] | undefined {
  return Object.hasOwn(SUBLAYER_SLOTS, className) ? SUBLAYER_SLOTS[className] : undefined;
}
