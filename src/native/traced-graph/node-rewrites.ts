import type { TracedAttr, TracedNode } from './op-trace.js';

/** What a rewrite sees of the trace around a node. */
export interface RewriteContext {
  /** TF_DataType and shape of a tensor, by handle. */
  tensor(handle: number): { dtype: number; shape: readonly number[] };
  /** The traced op that made a tensor, if an op did (not an input or a constant). */
  producer(handle: number): TracedNode | undefined;
  /** An int32 tensor's values where they were fixed at trace time (a shape, axes); undefined otherwise. */
  int32Constant(handle: number): Int32Array | undefined;
}

/** What a node is written as instead: its op, attributes and inputs (handles; the node's own when absent). */
export interface RewrittenNode {
  op: string;
  attrs: TracedAttr[];
  inputs?: number[];
}

/**
 * A change to one traced op as it is written to the GraphDef: the same values, computed by an op
 * TensorFlow's graph optimizer knows how to fuse. Returns what to write, or null to leave the node
 * as traced.
 */
export type NodeRewrite = (node: TracedNode, context: RewriteContext) => RewrittenNode | null;

const TF_FLOAT = 1;
const TF_ATTR_BOOL = 3;
const TF_ATTR_STRING = 0;
const TF_ATTR_TYPE = 4;

/**
 * x + b with b a vector as long as x's last axis is BiasAdd (NHWC: the channels last), and so is
 * x + reshape(v, [1, ..., 1, C]) of such a vector v, fed v itself. tfjs adds a bias with Add
 * whenever it does not fuse it (under a gradient tape, always; a depthwise convolution's bias
 * reshaped first), and TensorFlow's remapper fuses Conv2D and MatMul with a following BiasAdd (and
 * activation) into one kernel, never with an Add.
 */
export const addAsBiasAdd: NodeRewrite = (node, context) => {
  if ((node.op !== 'Add' && node.op !== 'AddV2') || node.inputs.length !== 2) return null;
  const [xHandle, bHandle] = node.inputs as [number, number];
  const x = context.tensor(xHandle);
  const b = context.tensor(bHandle);
  const channels = x.shape[x.shape.length - 1];
  if (x.dtype !== TF_FLOAT || b.dtype !== TF_FLOAT || x.shape.length < 2 || node.outputs[0]?.shape.length !== x.shape.length) return null;
  const bias = b.shape.length === 1 ? bHandle : vectorBeforeReshape(bHandle, b.shape, context);
  if (bias === undefined || context.tensor(bias).shape[0] !== channels || context.tensor(bias).shape.length !== 1) return null;
  return {
    op: 'BiasAdd',
    attrs: [
      { name: 'T', type: TF_ATTR_TYPE, value: TF_FLOAT },
      { name: 'data_format', type: TF_ATTR_STRING, value: 'NHWC' },
    ],
    inputs: [xHandle, bias],
  };
};

/** v, where `handle` is Reshape(v, [1, ..., 1, C]) of a vector v. */
function vectorBeforeReshape(handle: number, shape: readonly number[], context: RewriteContext): number | undefined {
  if (shape.slice(0, -1).some((size) => size !== 1)) return undefined;
  const reshape = context.producer(handle);
  if (reshape?.op !== 'Reshape') return undefined;
  const source = reshape.inputs[0]!;
  return context.tensor(source).shape.length === 1 ? source : undefined;
}

/**
 * sum(dy, axes = every axis but the last) is BiasAddGrad(dy) (NHWC): how tfjs computes a bias's
 * gradient, and what TensorFlow's remapper fuses with the Conv2DBackpropFilter of the same dy into
 * one kernel (Keras's gradient graphs run that fused kernel). A Sum that keeps its dimensions, or
 * sums any other set of axes, is left alone.
 */
export const sumAsBiasAddGrad: NodeRewrite = (node, context) => {
  if (node.op !== 'Sum' || node.inputs.length !== 2) return null;
  const [dyHandle, axesHandle] = node.inputs as [number, number];
  const dy = context.tensor(dyHandle);
  if (dy.dtype !== TF_FLOAT || dy.shape.length < 2) return null;
  if (node.attrs.some((a) => a.name === 'keep_dims' && a.type === TF_ATTR_BOOL && a.value === true)) return null;
  const axes = context.int32Constant(axesHandle);
  const rank = dy.shape.length;
  if (!axes) return null;
  const summed = new Set(Array.from(axes, (axis) => (axis < 0 ? axis + rank : axis)));
  if (summed.size !== rank - 1 || summed.has(rank - 1) || [...summed].some((axis) => axis < 0 || axis >= rank)) return null;
  return {
    op: 'BiasAddGrad',
    attrs: [
      { name: 'T', type: TF_ATTR_TYPE, value: TF_FLOAT },
      { name: 'data_format', type: TF_ATTR_STRING, value: 'NHWC' },
    ],
    inputs: [dyHandle],
  };
};

/** The rewrites applied to every traced graph, in order; the first that returns a change wins. */
export const NODE_REWRITES: readonly NodeRewrite[] = [addAsBiasAdd, sumAsBiasAddGrad];
