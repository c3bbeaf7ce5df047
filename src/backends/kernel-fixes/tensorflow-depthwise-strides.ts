import type * as tf from '@tensorflow/tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * Depthwise convolutions whose strides differ between rows and columns, where one of the two
 * cannot matter: its axis has one row (or column) in and a filter one tall (or wide), as in every
 * DepthwiseConv1D, SeparableConv1D and grouped Conv1D that tfjs runs as a 2-D convolution of
 * height 1. TensorFlow's own CPU kernels refuse unequal strides ("Current implementation only
 * supports equal length strides") unless oneDNN is on, which TensorFlow turns on by default only on
 * CPUs with AVX-512 VNNI and later: on an AVX2 machine such a layer failed on the tensorflow backend
 * while Keras, on another machine, had computed it. The stride of the axis that cannot matter is
 * set to the other's; the kernel computes the same tensor. Other cases go to TensorFlow as they are.
 */
export function equalDepthwiseStrides(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | tf.TensorInfo[] | undefined {
  if (!original) return undefined;
  const attrs = args.attrs ?? {};
  const strides = attrs['strides'] as number | [number, number];
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
  const pad = attrs['pad'];
  if (sh === sw || (pad !== 'same' && pad !== 'valid') || (attrs['dataFormat'] ?? 'NHWC') !== 'NHWC') return undefined;
  const { rows, columns, filterRows, filterColumns } = extents(args);
  const rowsCannotMatter = rows === 1 && filterRows === 1;
  const columnsCannotMatter = columns === 1 && filterColumns === 1;
  if (!rowsCannotMatter && !columnsCannotMatter) return undefined;
  const equal = rowsCannotMatter ? sw : sh;
  return original({ ...args, attrs: { ...attrs, strides: [equal, equal] } });
}

/** The input's rows and columns and the filter's, from whichever of the three kernels this is. */
function extents({ inputs, attrs }: KernelArgs): { rows: number; columns: number; filterRows: number; filterColumns: number } {
  // DepthwiseConv2dNative: x, filter; ...BackpropInput: dy, filter and the input's shape; ...BackpropFilter: x, dy and the filter's shape.
  const input = (inputs['x']?.shape ?? (attrs?.['inputShape'] as number[] | undefined)) as number[];
  const filter = (inputs['filter']?.shape ?? (attrs?.['filterShape'] as number[] | undefined)) as number[];
  return { rows: input[1]!, columns: input[2]!, filterRows: filter[0]!, filterColumns: filter[1]! };
}
