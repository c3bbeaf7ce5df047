import tf from '#tfjs';

/**
 * tfjs's geometry of a convolution of x by a filter of `filterShape` under a Conv2D kernel's
 * attributes, channels last; undefined for NCHW or attributes tfjs itself refuses (keras-bridge's
 * own convolutions then leave the call to the backend's kernel).
 */
export function nhwcConv2DInfo(xShape: readonly number[], filterShape: readonly number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo | undefined {
  const format = attrs['dataFormat'] ?? 'NHWC';
  if (format !== 'NHWC' && format !== 'channelsLast') return undefined;
  try {
    return tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      attrs['strides'] as number | [number, number],
      (attrs['dilations'] ?? 1) as number | [number, number],
      attrs['pad'] as 'same' | 'valid' | number,
      attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
      false,
      'channelsLast',
    );
  } catch {
    return undefined;
  }
}
