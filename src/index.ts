// keras-bridge's public API.
export { registerLayer, findCustomLayer, registeredCustomLayers, kerasBaseLayerConfigSchema } from './registry/custom-layer-registry.js';
export { registerActivation, findCustomActivation } from './registry/custom-activation-registry.js';
export type { CustomLayerClass, CustomLayerRegistration } from './registry/custom-layer-registry.js';
export { registerTranslator, registerModuleTranslator, findTranslator, translatedKerasClasses, translatedModuleClasses } from './convert/translator-registry.js';
export type { LayerTranslator, TfjsLayerConfig } from './convert/translator-registry.js';
export { convertKerasModel, planConversion, materializeConversion, toModelArtifacts } from './convert/convert-model.js';
export type { ConvertedModel, PlannedConversion } from './convert/convert-model.js';
export type { WeightData } from './convert/weight-data.js';
export type { ConversionReport, FieldNote, LayerConversion } from './convert/conversion-report.js';
export { weightsFromBundle } from './convert/weight-source.js';
export { loadBundle } from './keras/bundle.js';
export { readKerasModelFile, openKerasModelFile } from './keras/keras-file/read-model-file.js';
export type { ReadModelFileOptions } from './keras/keras-file/read-model-file.js';
export { DEFAULT_ARCHIVE_LIMITS } from './keras/keras-file/zip/archive-limits.js';
export type { ArchiveLimits } from './keras/keras-file/zip/archive-limits.js';
export type { Bundle } from './keras/bundle.js';
export type { BundleManifest } from './keras/bundle-manifest.js';
export { writeModelDirectory, modelDirectory } from './tfjs-io/model-directory.js';
export { loadConvertedModel } from './tfjs-io/load-converted-model.js';
export { bundleWeightTensors, loadNativeGraph, type NativeGradients, type NativeGraph, type NativeGraphEndpoints } from './native/native-graph.js';
export {
  traceModelNativeGraph,
  traceNativeGraph,
  TraceError,
  type TracedGraphSummary,
  type TracedNativeGraph,
  type TraceNativeGraphOptions,
} from './native/traced-graph/traced-native-graph.js';
export { nativeGraphFunction, type NativeGraphFunction, type NativeGraphFunctionOptions } from './native/traced-graph/native-graph-function.js';
export { useBackend } from './backends/index.js';
export { checkBundleParity, checkBundleParityCases } from './parity/check-parity.js';
export { runParity } from './parity/run-parity.js';
export { compareTensors } from './parity/compare-tensors.js';
export type { TensorComparison } from './parity/compare-tensors.js';
export type { ParityRun, ParityOutcome, ModelParity, BackendParity, TensorParity, TrainingModeParity, AfterTrainingParity, OptimizerParity } from './parity/parity-result.js';
export { loadParityResults, parseParityResults } from './parity/load-results.js';
export { formatParityResults, parityRunSchema } from './parity/results-schema.js';
export { DEFAULT_TOLERANCES, TRAINED_WEIGHT_TOLERANCE, defaultTolerance } from './parity/tolerance.js';
export { inSubLayer, random } from './training/replayable-random.js';
export { registerTrainingReplayer } from './training/training-replayers.js';
export { registerSubLayers } from './training/sub-layers.js';
export { KerasAdam } from './training/keras-adam.js';
export type { Tolerance } from './parity/tolerance.js';
export { exportWithPython } from './python-export/python-exporter.js';
export { expectParity } from './testing/index.js';
export { formatJUnit } from './report/junit-report.js';
export { formatHtmlReport } from './report/html-report.js';
export { registerReportFormat, reportFormat, reportFormats, type ReportFormat } from './report/formats/index.js';
export * from './errors.js';
