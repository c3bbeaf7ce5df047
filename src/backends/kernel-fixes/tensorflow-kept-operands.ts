import tf from '#tfjs';
import { int32Operand } from './tensorflow-int-operands.js';
import { orderPreservingTranspose } from './order-preserving-transpose.js';
import { runTensorflowOp } from './tensorflow-op.js';
import { sameShapeReshape } from './tensorflow-no-op.js';
import type { KernelFix } from './index.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

const backendOf = (args: KernelArgs) => args.backend as tf.KernelBackend;

/** The dtypes runTensorflowOp passes to TensorFlow; others go to tfjs-node's own kernel. */
const OP_DTYPES: ReadonlySet<tf.DataType> = new Set(['float32', 'int32', 'bool']);

/**
 * tfjs-node's Reshape or Transpose with its operand (the `operandAttr` attribute: shape, perm)
 * kept (tensorflow-int-operands.ts), after `copiesNothing` has taken the cases that move no value
 * (tensorflow-no-op.ts, order-preserving-transpose.ts).
 */
function withKeptOperand(
  op: 'Reshape' | 'Transpose',
  operandAttr: 'shape' | 'perm',
  operandType: 'Tshape' | 'Tperm',
  copiesNothing: NonNullable<KernelFix['native']>,
): NonNullable<KernelFix['native']> {
  return (args, original) => {
    const shared = copiesNothing(args, original);
    if (shared) return shared;
    const x = args.inputs['x'];
    const operand = args.attrs?.[operandAttr] as number[] | undefined;
    if (!x || !operand || !OP_DTYPES.has(x.dtype)) return undefined;
    return runTensorflowOp(backendOf(args), op, [x, int32Operand(backendOf(args), operand)], { T: { type: 'dtype', value: x.dtype }, [operandType]: { type: 'dtype', value: 'int32' } })[0]!;
  };
}

export const tensorflowReshape = withKeptOperand('Reshape', 'shape', 'Tshape', sameShapeReshape);
export const tensorflowTranspose = withKeptOperand('Transpose', 'perm', 'Tperm', orderPreservingTranspose);

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
