import * as tf from '@tensorflow/tfjs';
import { int32Operand } from './tensorflow-int-operands.js';
import { orderPreservingTranspose } from './order-preserving-transpose.js';
import { runTensorflowOp } from './tensorflow-op.js';
import { sameShapeReshape } from './tensorflow-no-op.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

const backendOf = (args: KernelArgs) => args.backend as tf.KernelBackend;

/** The dtypes runTensorflowOp passes to TensorFlow; others go to tfjs-node's own kernel. */
const OP_DTYPES: ReadonlySet<tf.DataType> = new Set(['float32', 'int32', 'bool']);

/**
 * tfjs-node's kernels whose int32 operand (a shape, a permutation, axes) is made anew on every
 * call, run with a kept one instead (tensorflow-int-operands.ts). Each first takes the cases
 * that copy nothing (tensorflow-no-op.ts, order-preserving-transpose.ts).
 */
export function tensorflowReshape(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | undefined {
  const same = sameShapeReshape(args, original);
  if (same) return same;
  const x = args.inputs['x'];
  const shape = args.attrs?.['shape'] as number[] | undefined;
  if (!x || !shape || !OP_DTYPES.has(x.dtype)) return undefined;
  return runTensorflowOp(backendOf(args), 'Reshape', [x, int32Operand(backendOf(args), shape)], { T: { type: 'dtype', value: x.dtype }, Tshape: { type: 'dtype', value: 'int32' } })[0]!;
}

export function tensorflowTranspose(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | undefined {
  const moved = orderPreservingTranspose(args, original);
  if (moved) return moved;
  const x = args.inputs['x'];
  const perm = args.attrs?.['perm'] as number[] | undefined;
  if (!x || !perm || !OP_DTYPES.has(x.dtype)) return undefined;
  return runTensorflowOp(backendOf(args), 'Transpose', [x, int32Operand(backendOf(args), perm)], { T: { type: 'dtype', value: x.dtype }, Tperm: { type: 'dtype', value: 'int32' } })[0]!;
}

/**
 * A reduction as TensorFlow's op of the same name, its axes kept. tfjs-node's takes the axes from
 * `axisAttr` (Max's is named reductionIndices) and computes Mean in float32 whatever the input:
 * only the dtypes in `dtypes` come here, others go to tfjs-node's kernel.
 */
export function tensorflowReduction(op: 'Sum' | 'Mean' | 'Max' | 'Min' | 'Prod', axisAttr: 'axis' | 'reductionIndices', dtypes: readonly tf.DataType[]): (args: KernelArgs) => tf.TensorInfo | undefined {
  return (args) => {
    const x = args.inputs['x'];
    if (!x || !dtypes.includes(x.dtype)) return undefined;
    const axes = tf.util.parseAxisParam(args.attrs?.[axisAttr] as number | number[], x.shape);
    const keepDims = (args.attrs?.['keepDims'] as boolean | undefined) ?? false;
    return runTensorflowOp(backendOf(args), op, [x, int32Operand(backendOf(args), axes)], {
      keep_dims: { type: 'bool', value: keepDims },
      T: { type: 'dtype', value: x.dtype },
      Tidx: { type: 'dtype', value: 'int32' },
    })[0]!;
  };
}
