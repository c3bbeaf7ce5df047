import * as tf from '@tensorflow/tfjs';

/**
 * The multiply-adds of a pass's products (convolutions and matrix products), counted from the
 * kernels tfjs dispatched (tf.profile's records: each kernel's name and its inputs' and outputs'
 * shapes), as the direct algorithm runs them: what Keras's TensorFlow (oneDNN) computes, and what
 * the bench sets against a backend's time and the machine's peak (wasm-fma-peak.ts). A Winograd
 * convolution (keras-bridge's wasm 3x3 kernels) multiplies fewer times than it counts here.
 */

/** A dispatched kernel as tf.profile records it. */
export interface KernelRecord {
  name: string;
  inputShapes: ReadonlyArray<readonly number[] | null | undefined>;
  outputShapes: ReadonlyArray<readonly number[] | null | undefined>;
}

/** Multiply-adds of one kernel from its shapes, or undefined where they do not say (a missing input). */
type MacCount = (inputs: KernelRecord['inputShapes'], outputs: KernelRecord['outputShapes']) => number | undefined;

const elements = (shape: readonly number[] | null | undefined): number | undefined => (shape ? shape.reduce((a, b) => a * b, 1) : undefined);

/** Every output element sums taps × input channels products (filter [kh, kw, in, out], or [kd, kh, kw, in, out]). */
function convolution(inputs: KernelRecord['inputShapes'], outputs: KernelRecord['outputShapes']): number | undefined {
  const [filter, out] = [inputs[1], elements(outputs[0])];
  if (!filter || out === undefined) return undefined;
  return out * filter.slice(0, -1).reduce((a, b) => a * b, 1);
}

/** Every output element sums one channel's taps (filter [kh, kw, in, multiplier]). */
function depthwise(inputs: KernelRecord['inputShapes'], outputs: KernelRecord['outputShapes']): number | undefined {
  const [filter, out] = [inputs[1], elements(outputs[0])];
  if (!filter || out === undefined) return undefined;
  return out * filter[0]! * filter[1]!;
}

/**
 * [..., m, k]·[..., k, n]: m·n·k per batch. The records carry no transpose attributes, so k is
 * the side of a that is not m (either, where a is square).
 */
function product(inputs: KernelRecord['inputShapes'], outputs: KernelRecord['outputShapes']): number | undefined {
  const [a, out] = [inputs[0], outputs[0]];
  if (!a || !out || a.length < 2 || out.length < 2) return undefined;
  const m = out[out.length - 2]!;
  const depth = a[a.length - 2] === m ? a[a.length - 1]! : a[a.length - 2]!;
  return elements(out)! * depth;
}

/**
 * A convolution's gradients: each element of dy (the input gradient's first input, the filter
 * gradient's second) takes the forward pass's taps × input channels products, the filter given
 * (input gradient) or made (filter gradient).
 */
function convolutionInputGradient(inputs: KernelRecord['inputShapes']): number | undefined {
  const [dy, filter] = [elements(inputs[0]), inputs[1]];
  return dy === undefined || !filter ? undefined : dy * filter.slice(0, -1).reduce((a, b) => a * b, 1);
}
function convolutionFilterGradient(inputs: KernelRecord['inputShapes'], outputs: KernelRecord['outputShapes']): number | undefined {
  const [dy, filter] = [elements(inputs[1]), outputs[0]];
  return dy === undefined || !filter ? undefined : dy * filter.slice(0, -1).reduce((a, b) => a * b, 1);
}
function depthwiseInputGradient(inputs: KernelRecord['inputShapes']): number | undefined {
  const [dy, filter] = [elements(inputs[0]), inputs[1]];
  return dy === undefined || !filter ? undefined : dy * filter[0]! * filter[1]!;
}
function depthwiseFilterGradient(inputs: KernelRecord['inputShapes'], outputs: KernelRecord['outputShapes']): number | undefined {
  const [dy, filter] = [elements(inputs[1]), outputs[0]];
  return dy === undefined || !filter ? undefined : dy * filter[0]! * filter[1]!;
}

/** The kernels counted, by tfjs kernel name; any other kernel (elementwise, pooling, reductions) counts none. */
export const PRODUCT_KERNELS: Readonly<Record<string, MacCount>> = {
  Conv2D: convolution,
  FusedConv2D: convolution,
  Conv3D: convolution,
  DepthwiseConv2dNative: depthwise,
  FusedDepthwiseConv2D: depthwise,
  BatchMatMul: product,
  _FusedMatMul: product,
  Conv2DBackpropInput: convolutionInputGradient,
  Conv2DBackpropFilter: convolutionFilterGradient,
  Conv3DBackpropInputV2: convolutionInputGradient,
  Conv3DBackpropFilterV2: convolutionFilterGradient,
  DepthwiseConv2dNativeBackpropInput: depthwiseInputGradient,
  DepthwiseConv2dNativeBackpropFilter: depthwiseFilterGradient,
};

export interface ProductMacs {
  /** Multiply-adds of every product kernel. */
  total: number;
  /** The same by kernel name. */
  byKernel: Record<string, number>;
}

/** The products' multiply-adds among `kernels`. */
export function countProductMacs(kernels: readonly KernelRecord[]): ProductMacs {
  const byKernel: Record<string, number> = {};
  let total = 0;
  for (const k of kernels) {
    const macs = PRODUCT_KERNELS[k.name]?.(k.inputShapes, k.outputShapes);
    if (macs === undefined) continue;
    byKernel[k.name] = (byKernel[k.name] ?? 0) + macs;
    total += macs;
  }
  return { total, byKernel };
}

/**
 * The products' multiply-adds of one run of `pass` (its kernels profiled; what it returns is
 * disposed). tf.profile records every kernel the engine runs, those a kernel runs through it too: on
 * a backend whose kernels do (tfjs-node's _FusedMatMul runs tf.matMul and tf.add), a product is
 * counted twice. wasm's and cpu's do not.
 */
export async function passProductMacs(pass: () => tf.TensorContainer): Promise<ProductMacs> {
  const info = await tf.profile(() => pass());
  tf.dispose(info.result);
  return countProductMacs(info.kernels as unknown as KernelRecord[]);
}
