import type * as tf from '@tensorflow/tfjs';

/**
 * Identity as a second reference to the same buffer. tfjs-backend-wasm 4.22 copies the buffer
 * (cpu, webgl and wasm's own Reshape share it). tfjs tensors are never written in place, so both
 * references hold the same values for as long as either lives.
 *
 * Identity is what `tensor.clone()` runs, and the tape clones every tensor a gradient needs.
 * With copies, a tensor kept by two gradients (a convolution's output, for its own activation and for
 * the batch normalization after it) is held twice until the backward pass ends. MobileNetV2 on
 * wasm kept 185 MB per image under a tape, of which 112 MB were distinct.
 */
export function sharedIdentity({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const x = inputs['x'];
  // Strings live outside the heap; wasm's own kernel handles them.
  if (!x || x.dtype === 'string') return undefined;
  (backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * A `Cast` to the dtype the tensor already has, as sharedIdentity: tfjs-core's cast runs the kernel
 * whatever the dtypes. tfjs-backend-wasm copies the buffer, and tfjs-node runs TensorFlow's Cast
 * (15-20 µs a call). Identity's gradient is such a cast (tfjs-core: cast(dy, 'float32')), so a
 * backward pass copies the gradient of every clone on its path: tfjs-layers' Add layer clones its
 * first operand, and ResNet50 forward+backward at batch 8 on wasm copied 16 full gradients, 17.5 ms
 * of 2.06 s. Other casts: undefined, and the backend's own kernel runs.
 */
export function sameDtypeCast(args: Parameters<tf.KernelFunc>[0], original: tf.KernelFunc | undefined): tf.TensorInfo | undefined {
  const x = args.inputs['x'];
  if (!original || !x || args.attrs?.['dtype'] !== x.dtype) return undefined;
  return sharedIdentity(args);
}
