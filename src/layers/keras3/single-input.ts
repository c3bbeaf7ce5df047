import type * as tf from '@tensorflow/tfjs';

/** The one input tensor of a single-input layer (tfjs may hand it over as a list of one). */
export function singleTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/** The one input shape of a single-input layer. */
export function singleShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
}

/** `axis` (negative counts from the end) as an index into a shape of `rank`. */
export function positiveAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
