import type { NonFiniteWeight } from '../convert/weight-values.js';
import type { TranslationGapRecord } from '../keras/bundle-manifest.js';
import type { ConstraintWarning, FieldNote } from '../convert/conversion-report.js';
import type { ClassSource, PythonOnlyFinding } from '../keras/bundle-manifest.js';
import type { SubclassedModel } from '../keras/subclassed-model.js';

/**
 * How one layer would convert: 'tfjs' to a class tfjs-layers implements, 'keras-bridge' to one
 * keras-bridge implements (keras-bridge/runtime), 'operation' a Keras op node (KerasOperation, also
 * keras-bridge's), 'registered' a custom layer with a registered TypeScript implementation, 'model'
 * a model used as a layer (its layers follow it), 'dropped' left out by the converter (see its note),
 * 'missing' not convertible (see `missing`).
 */
export type LayerStatus = 'tfjs' | 'keras-bridge' | 'operation' | 'registered' | 'model' | 'translated' | 'retraced' | 'graph-fallback' | 'dropped' | 'missing';

/**
 * Why a layer is missing: 'unregistered' a custom class with no registered TypeScript
 * implementation; 'unsupported' a Keras class the converter does not convert (the converter's
 * reason); 'rejected' a registered custom layer or a stock one whose config or call the converter
 * refuses (its message).
 */
export type MissingKind = 'unregistered' | 'unsupported' | 'rejected';

export interface InspectedLayer {
  /** The models this layer is nested in, outermost first; empty for the top-level model's layers. */
  path: string[];
  name: string;
  kerasClass: string;
  /** The Python module of a custom class (null for Keras's own). */
  module: string | null;
  status: LayerStatus;
  /** A model used as a layer that was a keras.Model subclass, converted through the graph its export recorded. */
  subclassedModel?: SubclassedModel;
  tfjsClass?: string;
  missing?: { kind: MissingKind; reason: string };
  /** What the translation drops, changes or adds in this layer's config. */
  notes: FieldNote[];
}

/** A custom class of a bundle, with what its export recorded about its source. */
export interface InspectedCustomClass {
  className: string;
  module: string | null;
  layers: string[];
  /** Null when the bundle records no source (exported before it did, or not a bundle). */
  source: ClassSource | null;
  baseSources: ClassSource[];
  /** Null when not recorded; `unanalyzed` says why call() was not analyzed. */
  pythonOnly: { analyzed: string[]; unanalyzed: string | null; findings: PythonOnlyFinding[] } | null;
  /** Route 1: whether the class's Python source translated to TypeScript, else the gaps; null when not recorded. */
  translation: { status: 'translated' | 'gaps'; gaps: TranslationGapRecord[] } | null;
}

/** `keras-bridge inspect --json`: plain data (docs/inspect.md has the schema). */
export interface InspectReport {
  format: 'keras-bridge-inspect';
  version: 1;
  source: string;
  model: string;
  kerasClass: string;
  /** The model was a keras.Model subclass, converted through the graph its export recorded. */
  subclassedModel?: SubclassedModel;
  /** Every layer, depth first: a nested model's layers follow it. */
  layers: InspectedLayer[];
  counts: Record<LayerStatus, number>;
  /** What `convert` does with the model: its report's model-level notes, or its error. */
  conversion:
    | { converts: true; modelNotes: FieldNote[]; weights: { count: number; bytes: number; shards: number }; constraintWarnings: ConstraintWarning[]; nonFiniteWeights?: NonFiniteWeight[] }
    | { converts: false; error: string };
  /** Only for bundles (a .keras or .h5 file holds no source). */
  customClasses: InspectedCustomClass[];
}
