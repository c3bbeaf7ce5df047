import type { InferenceRewrite } from './inference-rewrites/fold-batch-norm.js';
import type { NonFiniteWeight } from './weight-values.js';
/** What the converter did to one config field, so that nothing is dropped silently. */
export interface FieldNote {
  field: string;
  /** 'added': a field the Keras config lacks, filled in (`to`) from elsewhere, `reason` says where. */
  action: 'dropped' | 'changed' | 'added';
  reason: string;
  from?: unknown;
  to?: unknown;
}

import type { SubclassedModel } from '../keras/subclassed-model.js';

export interface LayerConversion {
  name: string;
  kerasClass: string;
  /** A model used as a layer that was a keras.Model subclass, converted through the graph its export recorded. */
  subclassedModel?: SubclassedModel;
  tfjsClass: string;
  /**
   * 'tfjs': a layer tfjs-layers implements (or keras-bridge adds to it); 'custom': a registered
   * TypeScript layer; 'operation': a Keras op on symbolic tensors (KerasOperation); 'model': a
   * model used as a layer, whose own layers are in `layers`; 'retrace': a custom layer with no
   * registered TypeScript class, converted from its call()'s symbolic re-trace recorded in the
   * bundle, as a nested model whose layers are in `layers` (retrace-translation.ts); 'translated':
   * a custom layer whose TypeScript class keras-bridge generated from its Python source (route 1,
   * translated-layers.ts).
   */
  mapping: 'tfjs' | 'custom' | 'operation' | 'model' | 'retrace' | 'graph' | 'translated';
  layers?: LayerConversion[];
  notes: FieldNote[];
}

/**
 * A Keras weight whose value breaks its own constraint: tfjs applies the constraint when it loads
 * the weight (weight-constraints.ts), so the converted model computes with a different value.
 */
export interface ConstraintWarning {
  layer: string;
  /** The Keras weight's path: "dense/kernel". */
  weight: string;
  /** The constraint as tfjs names it, with its config: "NonNeg", "MaxNorm {maxValue: 2, axis: 0}". */
  constraint: string;
  /** The largest |constrained - Keras| over the weight's elements. */
  maxChange: number;
  /** Elements changed by more than float32's default tolerance, of `elements`. */
  changedElements: number;
  elements: number;
  /** What it means and what to do, for people. */
  message: string;
}

/** Plain data describing a conversion; printing it is report/'s job. */
export interface ConversionReport {
  source: string;
  model: string;
  kerasClass: string;
  /** The model was a keras.Model subclass, converted through the graph its export recorded. */
  subclassedModel?: SubclassedModel;
  layers: LayerConversion[];
  modelNotes: FieldNote[];
  weights: { count: number; bytes: number; shards: number };
  /** Weights that tfjs will change on load, as their constraint demands. */
  constraintWarnings: ConstraintWarning[];
  /** Float weights holding NaN or infinities (refused instead with --refuse-non-finite-weights). */
  nonFiniteWeights?: NonFiniteWeight[];
  /** What convert --fold-batch-norm changed: each layer removed and the layer that now computes its output. */
  inferenceRewrites?: InferenceRewrite[];
}
