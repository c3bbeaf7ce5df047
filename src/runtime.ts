/**
 * keras-bridge's runtime, for apps that load converted models (browser or Node): importing it
 * registers every layer class keras-bridge's converter may write into a model.json (Keras 3 layers
 * and activations tfjs lacks, Keras operation nodes) with tfjs serialization. It imports nothing
 * from Node, so bundlers and browsers can load it.
 *
 *   import * as tf from '@tensorflow/tfjs';
 *   import { registerKernelFixes } from 'keras-bridge/runtime';
 *   import './my-custom-layers.js';            // your registerLayer() calls
 *   await tf.setBackend('wasm'); registerKernelFixes('wasm');
 *   const model = await tf.loadLayersModel('/model/model.json');
 *
 * A custom layer that is random in training should draw through `random` (keras.random's
 * counterpart), so that training-mode parity replays Keras's draws; train as Keras does with
 * `KerasAdam` (tfjs's tf.train.adam places epsilon differently).
 */
import './layers/keras3/index.js';
import './layers/operations/keras-operation-layer.js';
import './layers/operations/keras-layer-weights.js';
import './layers/graph/keras-bridge-graph-layer.js';
// tfjs-layers leaks a tensor each time a constrained weight is written: fixed on import.
import './layers/fixes/constrained-write.js';
// tfjs-layers runs DepthwiseConv2D, Conv2D with relu6, and relu6 as several operations where one does: one each, on import.
import './layers/fixes/fused-convolutions.js';
import './layers/fixes/single-op-relu6.js';
// tfjs-layers' Dense adds its bias as a separate pass where its activation is not relu, elu or linear: in the product, outside a tape, on import.
import './layers/fixes/dense-bias-in-product.js';
// tfjs-layers runs exact GELU as five operations, each a pass over the tensor: one on wasm outside a tape, on import.
import './layers/fixes/single-op-gelu.js';
// tfjs-layers' LayerNormalization tiles its statistics and weights to the input's shape: computed as Keras does, on import.
import './layers/fixes/layer-normalization.js';
// tfjs-layers' BatchNormalization in training computes otherwise than Keras: as Keras, on import.
import './layers/fixes/batch-normalization-training.js';
// tfjs-core keeps every gradient of a backward pass until it ends: released as the pass goes, on import.
import { installEarlyReleaseGradients } from './engine/early-release-gradients.js';
// tfjs-core keeps the data of tensors whose gradient reads only their shape (Add's, Reshape's) until then: released at once, on import.
import { installShapeOnlySavedTensors } from './engine/shape-only-saved-tensors.js';

export { registerLayer, findCustomLayer, registeredCustomLayers } from './registry/custom-layer-registry.js';
export { registerActivation, findCustomActivation } from './registry/custom-activation-registry.js';
export { registerKernelFixes, KERNEL_FIXES } from './backends/kernel-fixes/index.js';
export { WasmHeapExhaustedError } from './backends/wasm-heap-guard.js';
// Reads whose arrays are freed when the caller is done, as Python's reference counts do, not at V8's next collection.
export { withReadValues, withReadValuesSync } from './backends/released-reads.js';
export { installEarlyReleaseGradients, restoreTfjsGradients } from './engine/early-release-gradients.js';
export { installShapeOnlySavedTensors, restoreTfjsSavedTensors } from './engine/shape-only-saved-tensors.js';
// Random draws that training-mode parity checks replay from the bundle; Keras 3's Adam.
export { inSubLayer, random } from './training/replayable-random.js';
export { registerTrainingReplayer } from './training/training-replayers.js';
export { registerSubLayers } from './training/sub-layers.js';
export type { TrainingReplayer } from './training/training-replayers.js';
export { KerasAdam } from './training/keras-adam.js';
// What layers translated from Python (route 1) are built on: custom-layers/<Class>.ts imports these.
export { TranslatedLayer, type Kwargs, type TranslatedLayerArgs } from './translated/translated-layer.js';
export * as kops from './translated/keras-ops.js';
export * as py from './translated/python-semantics.js';

installEarlyReleaseGradients();
installShapeOnlySavedTensors();
