import tf from '#tfjs';

/**
 * The gradient of Conv3DBackpropInputV2, the kernel behind tf.conv3dTranspose (and so Keras's
 * Conv3DTranspose), which tfjs-core 4.22 lacks on every backend ("gradient function not found").
 * y = conv3dTranspose(dy, filter) is linear in each argument and is the adjoint of
 * x -> conv3d(x, filter): so the gradient for dy is conv3d of the incoming gradient, and the
 * gradient for filter is Conv3DBackpropFilterV2 with the incoming gradient as its x.
 */
export const conv3dBackpropInputGradient: tf.GradConfig = {
  kernelName: 'Conv3DBackpropInputV2',
  inputsToSave: ['dy', 'filter'],
  gradFunc: (incoming, saved, attrs) => {
    const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
    const gradient = incoming as tf.Tensor5D;
    const strides = attrs['strides'] as [number, number, number] | number;
    const pad = attrs['pad'] as 'valid' | 'same';
    return {
      dy: () => tf.conv3d(gradient, filter, strides, pad),
      filter: () =>
        tf.engine().runKernel('Conv3DBackpropFilterV2', { x: gradient, dy }, { strides, pad, filterShape: filter.shape }) as tf.Tensor5D,
    };
  },
};
