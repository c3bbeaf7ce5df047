export { expectParity, type ExpectParityOptions } from './expect-parity.js';
export { bundleBytes, layerClassesOfBundle, runLayerTest, type LayerTestOptions, type LayerTestResult } from './layer-harness.js';
