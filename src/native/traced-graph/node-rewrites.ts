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

/**
 * An input of a rewritten node: a traced tensor (its handle), the output of one of the rewrite's
 * own earlier steps (`before`), or a new int32 vector constant (a shape).
 */
export type RewriteInput = number | { step: number } | { int32: readonly number[] };

/** A node a rewrite writes before its last one, with the TF_DataType of its one output. */
export interface RewriteStep {
  op: string;
  attrs: TracedAttr[];
  inputs: RewriteInput[];
  dtype: number;
}

/**
 * What a node is written as instead: its op, attributes and inputs (the node's own when absent),
 * after the steps in `before`, if any. The last node's output stands for the traced node's (same
 * dtype and shape). `as` names the rewrite in a graph's summary (default: `op`).
 */
export interface RewrittenNode {
  op: string;
  attrs: TracedAttr[];
  inputs?: RewriteInput[];
  before?: RewriteStep[];
  as?: string;
}

/**
 * A change to one traced op as it is written to the GraphDef: the same values, computed by an op
 * TensorFlow's graph optimizer knows how to fuse. Returns what to write, or null to leave the node
 * as traced.
 */
export type NodeRewrite = (node: TracedNode, context: RewriteContext) => RewrittenNode | null;

const TF_FLOAT = 1;
const TF_INT32 = 3;
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
  if (boolAttr(node, 'keep_dims')) return null;
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

/**
 * A product of two matrices (adjoints allowed) as MatMul: BatchMatMulV2 whose operands and result
 * have batch dimensions of 1 or none (tfjs's [1, M, K] by [1, K, N], or rank 2), reshaped to the
 * matrices and back where they have a batch dimension. tfjs runs every product as BatchMatMulV2;
 * Keras's graphs run a Dense layer's as MatMul, which TensorFlow's CPU kernels run faster for the
 * same values (matmul_stack's eleven [4096, 1024]-by-[1024, 1024] products in a tf.function: 15-20
 * ms less of about 290, measured in one process) and which its remapper fuses with a following BiasAdd and activation.
 */
export const batchMatMulAsMatMul: NodeRewrite = (node, context) => {
  if ((node.op !== 'BatchMatMulV2' && node.op !== 'BatchMatMul') || node.inputs.length !== 2) return null;
  const [aHandle, bHandle] = node.inputs as [number, number];
  const a = context.tensor(aHandle);
  const b = context.tensor(bHandle);
  const out = node.outputs[0];
  const oneMatrix = (shape: readonly number[]) => shape.length === 2 || (shape.length === 3 && shape[0] === 1);
  if (a.dtype !== TF_FLOAT || b.dtype !== TF_FLOAT || !out || !oneMatrix(a.shape) || !oneMatrix(b.shape) || !oneMatrix(out.shape)) return null;
  const product = (x: RewriteInput, y: RewriteInput) => ({
    op: 'MatMul',
    attrs: [
      { name: 'T', type: TF_ATTR_TYPE, value: TF_FLOAT },
      { name: 'transpose_a', type: TF_ATTR_BOOL, value: boolAttr(node, 'adj_x') },
      { name: 'transpose_b', type: TF_ATTR_BOOL, value: boolAttr(node, 'adj_y') },
    ],
    inputs: [x, y],
  });
  if (a.shape.length === 2 && b.shape.length === 2 && out.shape.length === 2) return { ...product(aHandle, bHandle), as: 'MatMul' };
  const back = reshapeStep({ step: 2 }, out.shape);
  return {
    as: 'MatMul',
    before: [reshapeStep(aHandle, a.shape.slice(-2)), reshapeStep(bHandle, b.shape.slice(-2)), { ...product({ step: 0 }, { step: 1 }), dtype: TF_FLOAT }],
    op: back.op,
    attrs: back.attrs,
    inputs: back.inputs,
  };
};

/** Whether a traced node's boolean attribute is set (absent: false). */
function boolAttr(node: TracedNode, name: string): boolean {
  return node.attrs.some((attr) => attr.name === name && attr.type === TF_ATTR_BOOL && attr.value === true);
}

/** Reshape of a float tensor to a fixed shape. */
function reshapeStep(input: RewriteInput, shape: readonly number[]): RewriteStep {
  return {
    op: 'Reshape',
    attrs: [
      { name: 'T', type: TF_ATTR_TYPE, value: TF_FLOAT },
      { name: 'Tshape', type: TF_ATTR_TYPE, value: TF_INT32 },
    ],
    inputs: [input, { int32: [...shape] }],
    dtype: TF_FLOAT,
  };
}

/** The rewrites applied to every traced graph, in order; the first that returns a change wins. */
export const NODE_REWRITES: readonly NodeRewrite[] = [addAsBiasAdd, sumAsBiasAddGrad, batchMatMulAsMatMul];
