// The built-in parity modes, registered in the order they run, compare and report: end to end
// first (every other mode is read against it), then each layer alone forward and backward, then
// training mode and after training. A new mode is one file here and one import below.
import './end-to-end.js';
import './layer-alone-forward.js';
import './layer-alone-backward.js';
import './training.js';
import './after-training.js';
// Node's tensorflow backend only: the bundle's SavedModel run as one native graph.
import './native-graph.js';
import './native-graph-gradients.js';
// Node's tensorflow backend only: the converted model traced into one TensorFlow graph.
import './traced-graph.js';

export { parityMode, parityModes, registerParityMode } from './mode-registry.js';
export type {
  BackendSections,
  BackendSectionsDraft,
  ChartSeries,
  ComparedTensor,
  ModeComparisonContext,
  ModeEvaluationContext,
  NotCompared,
  ParityMode,
  ParityModeDefinition,
  ReportGroup,
} from './parity-mode.js';
