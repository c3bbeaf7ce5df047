import tf from '#tfjs';
import type { RecurrentDropout } from './recurrent-dropout.js';
import { tfjsRecurrentClass, zeroOutputForMask, type RecurrentLayerClass } from './zero-output-for-mask.js';

/** One of keras-bridge's cells (KerasLSTMCell, KerasGRUCell, KerasSimpleRNNCell). */
export interface KerasRecurrentCell extends tf.layers.Layer {
  readonly units: number;
  /** Drawn by the layer at each call; the cell applies them at every step. */
  readonly dropoutMasks: RecurrentDropout;
}

const TfjsRNN = tfjsRecurrentClass('RNN');

/**
 * A Keras 3 recurrent layer registered as `className`: tfjs-layers' RNN loop (masks,
 * go_backwards, return_sequences/state) around keras-bridge's cell, made from the layer's config
 * (the cell's fields sit on it, as for tfjs-layers' own LSTM and GRU), with Keras's
 * zero_output_for_mask and its dropout: in training, the masks are drawn once per call, before
 * the first step, as Keras's RNN layer does (so a training-mode replay finds them under the
 * layer's path).
 */
export function kerasRecurrentLayer(
  className: string,
  makeCell: (args: tf.serialization.ConfigDict) => KerasRecurrentCell,
): RecurrentLayerClass & { readonly className: string } {
  class KerasRecurrent extends TfjsRNN {
    static readonly className = className;
    readonly zeroOutputForMask: boolean;

    constructor(args: tf.serialization.ConfigDict) {
      super({ ...args, cell: makeCell(args) } as unknown as tf.serialization.ConfigDict);
      this.zeroOutputForMask = args['zeroOutputForMask'] === true;
    }

    override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
      const cell = this.cell as unknown as KerasRecurrentCell;
      if (kwargs?.['training'] === true) {
        const [batch, , features] = (Array.isArray(inputs) ? inputs[0]! : inputs).shape;
        cell.dropoutMasks.draw([batch!, features!], [batch!, cell.units]);
      } else {
        cell.dropoutMasks.reset();
      }
      if (!this.zeroOutputForMask) return super.call(inputs, kwargs as never);
      return tf.tidy(() => zeroOutputForMask(this, super.call(inputs, kwargs as never), kwargs));
    }

    override getConfig(): tf.serialization.ConfigDict {
      return { ...super.getConfig(), zeroOutputForMask: this.zeroOutputForMask };
    }

    static override fromConfig<T extends tf.serialization.Serializable>(
      cls: tf.serialization.SerializableConstructor<T>,
      config: tf.serialization.ConfigDict,
    ): T {
      return new cls(config);
    }
  }
  tf.serialization.registerClass(KerasRecurrent);
  return KerasRecurrent;
}
