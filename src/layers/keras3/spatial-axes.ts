import type * as tf from '@tensorflow/tfjs';

/** Keras's data_format, as tfjs camelCases it. */
export type DataFormat = 'channelsLast' | 'channelsFirst';

/** The spatial axes of a [batch, ..spatial, channels] or [batch, channels, ..spatial] tensor. */
export function spatialAxes(rank: number, dataFormat: DataFormat): number[] {
  const first = dataFormat === 'channelsFirst' ? 2 : 1;
  return Array.from({ length: rank - 2 }, (_, i) => first + i);
}

/** `shape` with each spatial axis i mapped by `resize(size, i)`; unknown sizes stay unknown. */
export function resizeSpatial(shape: tf.Shape, dataFormat: DataFormat, resize: (size: number, i: number) => number): tf.Shape {
  const axes = spatialAxes(shape.length, dataFormat);
  return shape.map((d, axis) => {
    const i = axes.indexOf(axis);
    return i < 0 || d === null ? d : resize(d, i);
  });
}
