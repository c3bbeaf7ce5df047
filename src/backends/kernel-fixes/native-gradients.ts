import tf from '#tfjs';
import { runTensorflowOp } from './tensorflow-op.js';

/**
 * An activation's gradient that tfjs-core composes from three to seven kernels and TensorFlow
 * computes in one op (ReluGrad, SigmoidGrad, ...). Its gradient, once installed, runs
 * `gradientKernel` on a backend that registers one (the tensorflow backend: `tensorflowKernel`),
 * and tfjs-core's own gradient, unchanged, on every other backend.
 */
export interface NativeGradient {
  /** The forward kernel, e.g. 'Relu'. */
  kernelName: string;
  /** Our kernel computing dL/dx from dL/dy and what the forward pass saved, e.g. 'KerasBridgeReluGrad'. */
  gradientKernel: string;
  /** The TensorFlow op it runs, e.g. 'ReluGrad', and its two operands in order. */
  tensorflowOp: string;
  operands: (dy: tf.TensorInfo, saved: tf.TensorInfo) => [tf.TensorInfo, tf.TensorInfo];
  /** Float attributes of the forward kernel the op takes too (LeakyRelu's alpha). */
  floatAttrs?: readonly string[];
  /**
   * Save the output y instead of tfjs-core's saved input x, where the native kernel reads the same
   * mask from either: ReLU's (0 < y iff 0 < x) and ReLU6's (0 < y < 6 iff 0 < x < 6), as
   * TensorFlow's own gradients take op.outputs[0]. An activation's output is kept anyway (the next
   * layer's input, which a convolution's gradient keeps); its input, a batch normalization's
   * output, is then freed after the forward pass instead of held to the backward pass.
   */
  savesOutput?: boolean;
  /**
   * With savesOutput, the gradient from y where a backend lacks `gradientKernel`; tfjs-core's own
   * gradient then, where absent (ReLU's, step(x), reads the same from y). ReLU6's masks x <= 6,
   * which y always is: its fallback masks 0 < y < 6, TensorFlow's Relu6Grad.
   */
  fromOutput?: (dy: tf.Tensor, y: tf.Tensor) => tf.Tensor;
}

/** y = f(x) saved as the input x (inputsToSave), dy first: ReluGrad(gradients, features). */
const gradientThenInput = (dy: tf.TensorInfo, x: tf.TensorInfo): [tf.TensorInfo, tf.TensorInfo] => [dy, x];
/** Saved as the output y (outputsToSave), y first: SigmoidGrad(y, dy). */
const outputThenGradient = (dy: tf.TensorInfo, y: tf.TensorInfo): [tf.TensorInfo, tf.TensorInfo] => [y, dy];

/** dy where 0 < y < 6 (y = relu6(x)), else 0: TensorFlow's Relu6Grad, from the output. */
function relu6GradientFromOutput(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(y, 0), tf.less(y, 6)), dy.dtype));
}

/**
 * Where TensorFlow's op and tfjs-core's composition differ, beyond rounding, TensorFlow's is what
 * Keras computes: Relu6Grad is 0 at x = 6 (tfjs: 1), ReluGrad is 0 at x = NaN (tfjs: NaN).
 */
export const NATIVE_GRADIENTS: readonly NativeGradient[] = [
  { kernelName: 'Relu', gradientKernel: 'KerasBridgeReluGrad', tensorflowOp: 'ReluGrad', operands: gradientThenInput, savesOutput: true },
  { kernelName: 'Relu6', gradientKernel: 'KerasBridgeRelu6Grad', tensorflowOp: 'Relu6Grad', operands: gradientThenInput, savesOutput: true, fromOutput: relu6GradientFromOutput },
  { kernelName: 'LeakyRelu', gradientKernel: 'KerasBridgeLeakyReluGrad', tensorflowOp: 'LeakyReluGrad', operands: gradientThenInput, floatAttrs: ['alpha'] },
  { kernelName: 'Sigmoid', gradientKernel: 'KerasBridgeSigmoidGrad', tensorflowOp: 'SigmoidGrad', operands: outputThenGradient },
  { kernelName: 'Tanh', gradientKernel: 'KerasBridgeTanhGrad', tensorflowOp: 'TanhGrad', operands: outputThenGradient },
];

/** The kernel computing `spec`'s gradient in one TensorFlow op, for the tensorflow backend. Inputs: dy, saved. */
export function tensorflowGradientKernel(spec: NativeGradient): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const [a, b] = spec.operands(inputs['dy']!, inputs['saved']!);
    const opAttrs: Parameters<typeof runTensorflowOp>[3] = { T: { type: 'dtype', value: 'float32' } };
    for (const name of spec.floatAttrs ?? []) opAttrs[name] = { type: 'float', value: attrs?.[name] as number };
    return runTensorflowOp(backend as tf.KernelBackend, spec.tensorflowOp, [a, b], opAttrs)[0]!;
  };
}

/** tfjs-core's own gradients, as they were before the first install replaced them. */
const originals = new Map<string, tf.GradConfig>();
const installed = new Map<string, tf.GradConfig>();

/**
 * `spec`'s gradient: the native kernel where the active backend has it and the tensors are
 * float32, else tfjs-core's gradient (which saved the same tensors). Undefined when tfjs-core has none.
 */
function nativeGradient(spec: NativeGradient): tf.GradConfig | undefined {
  const current = tf.getGradient(spec.kernelName);
  if (current && current !== installed.get(spec.kernelName)) originals.set(spec.kernelName, current);
  const original = originals.get(spec.kernelName);
  if (!original) return undefined;
  return {
    kernelName: spec.kernelName,
    ...(spec.savesOutput ? { outputsToSave: [true] } : {}),
    ...(!spec.savesOutput && original.inputsToSave ? { inputsToSave: original.inputsToSave } : {}),
    ...(!spec.savesOutput && original.outputsToSave ? { outputsToSave: original.outputsToSave } : {}),
    gradFunc: (dy, saved, attrs) => {
      const [kept] = saved;
      const grad = dy as tf.Tensor;
      if (!kept || grad.dtype !== 'float32' || kept.dtype !== 'float32' || !tf.getKernel(spec.gradientKernel, tf.getBackend())) {
        return kept && spec.fromOutput ? { x: () => spec.fromOutput!(grad, kept as tf.Tensor) } : original.gradFunc(dy, saved, attrs);
      }
      const kernelAttrs: tf.NamedAttrMap = {};
      for (const name of spec.floatAttrs ?? []) kernelAttrs[name] = attrs[name]!;
      return { x: () => tf.engine().runKernel(spec.gradientKernel, { dy: grad, saved: kept }, kernelAttrs) as tf.Tensor };
    },
  };
}

/** Installs NATIVE_GRADIENTS' gradients (idempotent); returns the kernel names installed now. */
export function registerNativeGradients(): string[] {
  const added: string[] = [];
  for (const spec of NATIVE_GRADIENTS) {
    const current = tf.getGradient(spec.kernelName);
    if (current && current === installed.get(spec.kernelName)) continue;
    const gradient = nativeGradient(spec);
    if (!gradient) continue;
    tf.registerGradient(gradient);
    installed.set(spec.kernelName, gradient);
    added.push(`${spec.kernelName} gradient`);
  }
  return added;
}
