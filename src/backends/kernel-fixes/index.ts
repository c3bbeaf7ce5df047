import tf from '#tfjs';
import { avgPool3DGrad, avgPoolGrad } from './avg-pool-grad.js';
import { avgPoolGradComposed } from './avg-pool-grad-composed.js';
import { batchMatMul } from './batch-mat-mul-composed.js';
import { fusedMatMul } from './fused-mat-mul-tiles.js';
import { convolutionInTiles } from './convolution-in-tiles.js';
import { heapClamp } from './heap-clamp.js';
import { heapPad } from './heap-pad.js';
import { batchNormGradient, FUSED_BATCH_NORM_GRAD, tensorflowFusedBatchNormGrad } from './batch-norm-gradient.js';
import { composedFallbacks, composedKernel, type ComposedCompute } from './composed-kernel.js';
import { conv2DBackpropFilter, conv2DBackpropInput, depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './conv-backprop-composed.js';
import { conv3dBackpropInputGradient } from './conv3d-backprop-input-gradient.js';
import { conv3DBackpropFilterByDepthTaps, conv3DBackpropInputByDepthTaps } from './conv3d-by-depth-taps.js';
import { avgPool3DGradByPlanes, maxPool3DByPlanes } from './pool3d-by-planes.js';
import { cpuKernel } from './cpu-kernel.js';
import { heapMaxPoolGrad } from './heap-max-pool-grad.js';
import { heapMaxPool3DGrad, maxPool3DGrad } from './max-pool-3d-grad.js';
import { heapUnsortedSegmentSum } from './heap-segment-sum.js';
import { cumsumGradient } from './cumsum-gradient.js';
import { hostKernel, type HostCompute } from './host-kernel.js';
import { resizeNearestNeighborGrad } from './resize-nearest-neighbor-grad.js';
import { NATIVE_GRADIENTS, registerNativeGradients, tensorflowGradientKernel } from './native-gradients.js';
import { tensorflowStep } from './tensorflow-step.js';
import { tensorflowClipByValue, tensorflowRelu6 } from './tensorflow-clip.js';
import { tileGradient } from './tile-gradient.js';
import { softmaxGradient } from './softmax-gradient.js';
import { heapSoftmaxGradient, SOFTMAX_GRADIENT_KERNEL } from './heap-softmax-gradient.js';
import { heapLayerNorm, heapLayerNormInputGradient, heapLayerNormStatistics, LAYER_NORM_INPUT_GRADIENT_KERNEL, LAYER_NORM_KERNEL, LAYER_NORM_STATISTICS_KERNEL } from './heap-layer-norm.js';
import { tensorflowFusedConv2D } from './tensorflow-fused.js';
import { equalDepthwiseStrides } from './tensorflow-depthwise-strides.js';
import { fourDimensionalBatchNorm } from './tensorflow-batch-norm-rank.js';
import { padAxisByAxis, reverseAxisByAxis } from './rank-reduced.js';
import { tensorflowReduction, tensorflowReshape, tensorflowTranspose } from './tensorflow-kept-operands.js';
import { batchNormAsMulAdd } from './batch-norm-mul-add.js';
import { sameDtypeCast, sharedIdentity } from './shared-identity.js';
import { heapTranspose } from './heap-transpose.js';
import { heapBroadcastBinary } from './heap-broadcast-binary.js';
import { wasmFusedBatchNormGrad } from './wasm-batch-norm-gradient.js';
import { heapSlice } from './heap-slice.js';
import { heapTile } from './heap-tile.js';
import { heapErf } from './heap-erf.js';
import { GELU_GRADIENT_KERNEL, GELU_KERNEL, heapGelu, heapGeluGradient } from './heap-gelu.js';
import { heapExp } from './heap-exp.js';
import { composedRelu6Grad, wasmReluGrad } from './wasm-relu-gradients.js';
import { pooledMeanOverOuterAxes, pooledSum } from './pooled-reduction.js';
import { guardWasmHeap } from '../wasm-heap-guard.js';

/** A kernel keras-bridge installs on a backend, and why (docs/wasm-kernels.md). */
export interface KernelFix {
  kernelName: string;
  /**
   * 'missing': the backend has no such kernel; 'wrong': tfjs 4.22's kernel computes wrong values;
   * 'slow': tfjs's kernel is right but much slower than `composed` (which falls back to it);
   * 'refuses': the backend's kernel throws on some inputs Keras computes (`native` rewrites them).
   */
  problem: 'missing' | 'wrong' | 'slow' | 'refuses';
  /** The kernel in JavaScript memory: every case, at the cost of copies to and from the backend (none for 'slow'). */
  compute?: HostCompute;
  /** The kernel from the backend's own kernels, no copy; the cases it returns undefined for take `compute`. */
  composed?: ComposedCompute;
  /**
   * The whole kernel, written for this backend (TensorFlow's own ops on the tensorflow backend);
   * it may call the backend's kernel it replaces (`original`), and the cases it returns undefined
   * for go to that kernel as they are.
   */
  native?: (args: Parameters<tf.KernelFunc>[0], original: tf.KernelFunc | undefined) => tf.TensorInfo | tf.TensorInfo[] | undefined;
}

const fromCpu = (kernelName: string, problem: KernelFix['problem']): KernelFix => ({ kernelName, problem, compute: cpuKernel(kernelName) });

/**
 * Kernels the gradients of convolutional, pooling, up-sampling and embedding layers need, per backend.
 * The native tensorflow backend has every kernel; it gets TensorFlow's single ops where tfjs-node
 * composes several (the activations' gradients, NATIVE_GRADIENTS).
 */
export const KERNEL_FIXES: Readonly<Record<'cpu' | 'wasm' | 'tensorflow' | 'webgpu', readonly KernelFix[]>> = {
  // tfjs-backend-webgpu's shaders that are wrong above rank 4 (docs/tolerances.md, "WebGPU kernel
  // bugs"): no host kernels here, since WebGPU tensors cannot be read synchronously in a kernel.
  webgpu: [
    { kernelName: 'PadV2', problem: 'wrong', native: padAxisByAxis },
    { kernelName: 'Reverse', problem: 'wrong', native: reverseAxisByAxis },
  ],
  wasm: [
    { ...fromCpu('Conv2DBackpropFilter', 'missing'), composed: conv2DBackpropFilter },
    { ...fromCpu('DepthwiseConv2dNativeBackpropFilter', 'missing'), composed: depthwiseConv2dNativeBackpropFilter },
    { ...fromCpu('DepthwiseConv2dNativeBackpropInput', 'missing'), composed: depthwiseConv2dNativeBackpropInput },
    { kernelName: 'Conv2DBackpropInput', problem: 'slow', composed: conv2DBackpropInput },
    { kernelName: 'BatchMatMul', problem: 'slow', composed: batchMatMul },
    { kernelName: '_FusedMatMul', problem: 'slow', composed: fusedMatMul },
    { kernelName: 'Conv2D', problem: 'slow', composed: convolutionInTiles },
    { kernelName: 'FusedConv2D', problem: 'slow', composed: convolutionInTiles },
    { kernelName: 'Sum', problem: 'slow', composed: pooledSum },
    { kernelName: 'Mean', problem: 'slow', composed: pooledMeanOverOuterAxes },
    { kernelName: 'FusedBatchNorm', problem: 'slow', composed: batchNormAsMulAdd },
    { kernelName: FUSED_BATCH_NORM_GRAD, problem: 'missing', native: wasmFusedBatchNormGrad },
    { ...fromCpu('UnsortedSegmentSum', 'missing'), native: heapUnsortedSegmentSum },
    { ...fromCpu('Conv3DBackpropInputV2', 'wrong'), composed: conv3DBackpropInputByDepthTaps },
    { ...fromCpu('Conv3DBackpropFilterV2', 'wrong'), composed: conv3DBackpropFilterByDepthTaps },
    { ...fromCpu('MaxPoolGrad', 'wrong'), native: heapMaxPoolGrad },
    { ...fromCpu('MaxPool3D', 'wrong'), composed: maxPool3DByPlanes },
    { kernelName: 'MaxPool3DGrad', problem: 'wrong', compute: maxPool3DGrad, native: heapMaxPool3DGrad },
    { kernelName: 'AvgPoolGrad', problem: 'wrong', compute: avgPoolGrad, composed: avgPoolGradComposed },
    { kernelName: 'AvgPool3DGrad', problem: 'wrong', compute: avgPool3DGrad, composed: avgPool3DGradByPlanes },
    { kernelName: 'Identity', problem: 'slow', native: sharedIdentity },
    { kernelName: 'Cast', problem: 'slow', native: sameDtypeCast },
    { kernelName: 'Transpose', problem: 'slow', native: heapTranspose },
    { kernelName: 'Slice', problem: 'slow', native: heapSlice },
    { kernelName: 'PadV2', problem: 'slow', native: heapPad },
    { kernelName: 'Tile', problem: 'slow', native: heapTile },
    { kernelName: 'Erf', problem: 'slow', native: heapErf },
    { kernelName: 'Exp', problem: 'slow', native: heapExp },
    { kernelName: GELU_KERNEL, problem: 'missing', native: heapGelu },
    { kernelName: GELU_GRADIENT_KERNEL, problem: 'missing', native: heapGeluGradient },
    { kernelName: SOFTMAX_GRADIENT_KERNEL, problem: 'missing', native: heapSoftmaxGradient },
    { kernelName: LAYER_NORM_KERNEL, problem: 'missing', native: heapLayerNorm },
    { kernelName: LAYER_NORM_STATISTICS_KERNEL, problem: 'missing', native: heapLayerNormStatistics },
    { kernelName: LAYER_NORM_INPUT_GRADIENT_KERNEL, problem: 'missing', native: heapLayerNormInputGradient },
    { kernelName: 'Relu', problem: 'slow', native: heapClamp(0, Infinity) },
    { kernelName: 'KerasBridgeRelu6Grad', problem: 'missing', native: composedRelu6Grad },
    { kernelName: 'KerasBridgeReluGrad', problem: 'missing', native: wasmReluGrad },
    { kernelName: 'Add', problem: 'slow', native: heapBroadcastBinary('Add') },
    { kernelName: 'Sub', problem: 'slow', native: heapBroadcastBinary('Sub') },
    { kernelName: 'Multiply', problem: 'slow', native: heapBroadcastBinary('Multiply') },
    { kernelName: 'RealDiv', problem: 'slow', native: heapBroadcastBinary('RealDiv') },
  ],
  cpu: [
    { kernelName: 'AvgPoolGrad', problem: 'wrong', compute: avgPoolGrad },
    { kernelName: 'AvgPool3DGrad', problem: 'wrong', compute: avgPool3DGrad },
    { kernelName: 'MaxPool3DGrad', problem: 'wrong', compute: maxPool3DGrad },
    { kernelName: 'ResizeNearestNeighborGrad', problem: 'wrong', compute: resizeNearestNeighborGrad },
  ],
  tensorflow: [
    { kernelName: 'Step', problem: 'slow', native: tensorflowStep },
    { kernelName: 'ClipByValue', problem: 'slow', native: tensorflowClipByValue },
    { kernelName: 'Relu6', problem: 'slow', native: tensorflowRelu6 },
    { kernelName: 'FusedConv2D', problem: 'slow', native: tensorflowFusedConv2D },
    { kernelName: FUSED_BATCH_NORM_GRAD, problem: 'missing', native: tensorflowFusedBatchNormGrad },
    { kernelName: 'Reshape', problem: 'slow', native: tensorflowReshape },
    { kernelName: 'Cast', problem: 'slow', native: sameDtypeCast },
    { kernelName: 'Transpose', problem: 'slow', native: tensorflowTranspose },
    { kernelName: 'Sum', problem: 'slow', native: tensorflowReduction('Sum', 'axis', ['float32', 'int32']) },
    { kernelName: 'Mean', problem: 'slow', native: tensorflowReduction('Mean', 'axis', ['float32']) },
    { kernelName: 'Max', problem: 'slow', native: tensorflowReduction('Max', 'reductionIndices', ['float32', 'int32']) },
    { kernelName: 'Min', problem: 'slow', native: tensorflowReduction('Min', 'axis', ['float32', 'int32']) },
    { kernelName: 'Prod', problem: 'slow', native: tensorflowReduction('Prod', 'axis', ['float32', 'int32']) },
    { kernelName: 'FusedBatchNorm', problem: 'refuses', native: fourDimensionalBatchNorm },
    { kernelName: 'DepthwiseConv2dNative', problem: 'refuses', native: equalDepthwiseStrides },
    { kernelName: 'DepthwiseConv2dNativeBackpropInput', problem: 'refuses', native: equalDepthwiseStrides },
    { kernelName: 'DepthwiseConv2dNativeBackpropFilter', problem: 'refuses', native: equalDepthwiseStrides },
    ...NATIVE_GRADIENTS.map((spec): KernelFix => {
      const kernel = tensorflowGradientKernel(spec);
      return { kernelName: spec.gradientKernel, problem: 'missing', native: (args) => kernel(args) as tf.TensorInfo };
    }),
  ],
};

/** A named list of KERNEL_FIXES; a backend descriptor names the one its tfjs backend gets. */
export type KernelFixSet = keyof typeof KERNEL_FIXES;

function isKernelFixSet(name: string): name is KernelFixSet {
  return Object.hasOwn(KERNEL_FIXES, name);
}

/** Gradients tfjs-core lacks for every backend. */
const MISSING_GRADIENTS: readonly tf.GradConfig[] = [conv3dBackpropInputGradient];

/** Gradients tfjs-core 4.22 computes wrongly (cumsum) or far more slowly than needed (batch norm, tile; softmax where the backend has its kernel) on every backend: replaced. */
const REPLACED_GRADIENTS: readonly tf.GradConfig[] = [cumsumGradient, batchNormGradient, tileGradient, softmaxGradient];

const installed = new Map<string, tf.KernelFunc>();

/** tfjs's own kernels that 'slow' fixes replaced, by backend/kernel name. */
const replaced = new Map<string, tf.KernelConfig>();

/** tfjs's own kernel `kernelName` on `backend` where a fix replaced it for speed alone (tests compare against it), else undefined. */
export function replacedKernel(kernelName: string, backend: string): tf.KernelConfig | undefined {
  return replaced.get(`${backend}/${kernelName}`);
}

/**
 * Installs KERNEL_FIXES[fixSet] on the tfjs backend `backend` (replacing tfjs's kernel where it is
 * wrong; a 'missing' one that a later tfjs ships is left alone) and the gradients tfjs-core lacks.
 * `fixSet` defaults to the set named like the backend (registerKernelFixes('wasm')); null installs
 * only the gradients. A wasm backend already started also gets its out-of-memory check
 * (wasm-heap-guard.ts). Idempotent; returns the kernel and gradient names it installed now.
 */
export function registerKernelFixes(backend: string, fixSet: KernelFixSet | null = isKernelFixSet(backend) ? backend : null): string[] {
  const added: string[] = [];
  // The engine's registry, not tf.findBackend, which would start a backend not yet started.
  guardWasmHeap(tf.engine().registry[backend]);
  for (const gradient of MISSING_GRADIENTS) {
    if (tf.getGradient(gradient.kernelName)) continue;
    tf.registerGradient(gradient);
    added.push(`${gradient.kernelName} gradient`);
  }
  for (const gradient of REPLACED_GRADIENTS) {
    if (tf.getGradient(gradient.kernelName) === gradient) continue;
    tf.registerGradient(gradient);
    added.push(`${gradient.kernelName} gradient`);
  }
  // Backends without the native kernels keep tfjs-core's gradients through them.
  added.push(...registerNativeGradients());
  const fixes = fixSet === null ? [] : KERNEL_FIXES[fixSet];
  for (const fix of fixes) {
    const key = `${backend}/${fix.kernelName}`;
    const current = tf.getKernel(fix.kernelName, backend);
    if (current && (current.kernelFunc === installed.get(key) || fix.problem === 'missing')) continue;
    // What covers the cases `composed` does not: tfjs's own kernel where it is only slow, else ours on the host.
    // A 'wrong' kernel mended natively alone (no host kernel) is right in the cases `native` leaves to it.
    const keepsCurrent = fix.problem === 'slow' || fix.problem === 'refuses' || (fix.problem === 'wrong' && fix.native !== undefined && !fix.compute);
    const fallback = keepsCurrent ? current : fix.compute ? hostKernel(fix.kernelName, backend, fix.compute) : undefined;
    if (!fallback && !(fix.native && fix.problem === 'missing')) continue; // a kernel this tfjs does not have: nothing to speed up or mend
    if (current) tf.unregisterKernel(fix.kernelName, backend);
    if (current && fix.problem === 'slow') replaced.set(key, current);
    const config = fix.native
      ? nativeKernel(fix.kernelName, backend, fix.native, fallback)
      : fix.composed
        ? composedKernel(fix.kernelName, backend, fix.composed, fallback!)
        : fallback!;
    tf.registerKernel(config);
    installed.set(key, config.kernelFunc);
    added.push(fix.kernelName);
  }
  return added;
}

/** A kernel config running `native`, and `fallback` for the cases it returns undefined for. */
function nativeKernel(kernelName: string, backendName: string, native: NonNullable<KernelFix['native']>, fallback: tf.KernelConfig | undefined): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    // The fallback's own setup (tfjs-backend-wasm binds its C function there when the backend starts).
    ...(fallback?.setupFunc ? { setupFunc: fallback.setupFunc } : {}),
    ...(fallback?.disposeFunc ? { disposeFunc: fallback.disposeFunc } : {}),
    kernelFunc: (args) => {
      const result = native(args, fallback?.kernelFunc);
      if (result !== undefined) return result;
      composedFallbacks.set(kernelName, (composedFallbacks.get(kernelName) ?? 0) + 1);
      if (!fallback) throw new Error(`${kernelName}: no ${backendName} kernel for inputs of dtype ${Object.values(args.inputs).map((t) => t?.dtype).join(', ')}`);
      return fallback.kernelFunc(args);
    },
  };
}
