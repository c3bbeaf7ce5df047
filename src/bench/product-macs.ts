import tf from '#tfjs';

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

/** Products per output element of a filter: taps × input channels ([kh, kw, (kd,) in, out]). */
const convolutionTaps = (filter: readonly number[]): number => filter.slice(0, -1).reduce((a, b) => a * b, 1);
/** A depthwise filter's taps ([kh, kw, in, multiplier]): each output sums one channel's. */
const depthwiseTaps = (filter: readonly number[]): number => filter[0]! * filter[1]!;

/** A convolution: every output element takes the filter's taps × channels products (input 1 is the filter). */
function forward(taps: (filter: readonly number[]) => number): MacCount {
  return (inputs, outputs) => {
    const [filter, out] = [inputs[1], elements(outputs[0])];
    return !filter || out === undefined ? undefined : out * taps(filter);
  };
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
 * A convolution's gradients: each element of dy takes the forward pass's taps × channels
 * products, the filter given (the input gradient: dy is input 0, the filter input 1) or made (the
 * filter gradient: dy is input 1, the filter its output).
 */
function gradient(taps: (filter: readonly number[]) => number, of: 'input' | 'filter'): MacCount {
  return (inputs, outputs) => {
    const dy = elements(inputs[of === 'input' ? 0 : 1]);
    const filter = of === 'input' ? inputs[1] : outputs[0];
    return dy === undefined || !filter ? undefined : dy * taps(filter);
  };
}

/** The kernels counted, by tfjs kernel name; any other kernel (elementwise, pooling, reductions) counts none. */
export const PRODUCT_KERNELS: Readonly<Record<string, MacCount>> = {
  Conv2D: forward(convolutionTaps),
  FusedConv2D: forward(convolutionTaps),
  Conv3D: forward(convolutionTaps),
  DepthwiseConv2dNative: forward(depthwiseTaps),
  FusedDepthwiseConv2D: forward(depthwiseTaps),
  BatchMatMul: product,
  _FusedMatMul: product,
  Conv2DBackpropInput: gradient(convolutionTaps, 'input'),
  Conv2DBackpropFilter: gradient(convolutionTaps, 'filter'),
  Conv3DBackpropInputV2: gradient(convolutionTaps, 'input'),
  Conv3DBackpropFilterV2: gradient(convolutionTaps, 'filter'),
  DepthwiseConv2dNativeBackpropInput: gradient(depthwiseTaps, 'input'),
  DepthwiseConv2dNativeBackpropFilter: gradient(depthwiseTaps, 'filter'),
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
