// keras-bridge's TypeScript implementations of Keras 3 layers and activations that tfjs-layers
// 4.22 lacks or computes differently. Importing this module registers them all with tfjs
// serialization, which tf.loadLayersModel needs for a converted model that uses them.
export * from './activations/index.js';
export { KerasAdditiveAttention } from './additive-attention.js';
export { KerasAlphaDropout } from './alpha-dropout.js';
export { KerasAttention } from './attention.js';
export { CallArguments } from './call-arguments.js';
export { KerasConv1DTranspose } from './conv1d-transpose.js';
export { KerasCropping } from './cropping.js';
export { KerasDepthwiseConv1D } from './depthwise-conv1d.js';
export { KerasEinsumDense } from './einsum-dense.js';
export { KerasELU } from './elu.js';
export { KerasGlobalAveragePooling, KerasGlobalMaxPooling } from './global-pooling.js';
export { KerasGroupNormalization } from './group-normalization.js';
export { KerasMultiHeadAttention } from './multi-head-attention.js';
export { KerasNormalization } from './normalization.js';
export { KerasReLU } from './relu.js';
export { KerasRMSNormalization } from './rms-normalization.js';
export { KerasSeparableConv1D } from './separable-conv1d.js';
export { KerasSoftmax } from './softmax.js';
export { KerasSpatialDropout } from './spatial-dropout.js';
export { KerasSubtract } from './subtract.js';
export { KerasUnitNormalization } from './unit-normalization.js';
export { KerasUpSampling } from './up-sampling.js';
export { KerasZeroPadding } from './zero-padding.js';
export { KerasBatchNormalization } from './batch-normalization.js';
export { KerasGRU, KerasGRUCell } from './gru.js';
export { KerasLayerNormalization } from './layer-normalization.js';
export { KerasLSTM, KerasLSTMCell } from './lstm.js';
export { KerasSimpleRNN, KerasSimpleRNNCell } from './simple-rnn.js';
export { registerMaskGradients } from './mask-gradients.js';
export { KerasConv1D } from './conv1d.js';
export { KerasGroupedConv1D, KerasGroupedConv2D, KerasGroupedConv3D } from './grouped-conv.js';
export { KerasCenterCrop, KerasResizing } from './image-resizing.js';
export { KerasCategoryEncoding } from './category-encoding.js';
export { KerasInferenceIdentity } from './inference-identity.js';
export { KerasBridgeInputCopy } from './repeated-input-copy.js';
// Layers that keras.applications models define for themselves (not in keras.layers).
export { KerasLayerScale } from './layer-scale.js';
export { KerasCustomScaleLayer } from './custom-scale-layer.js';
