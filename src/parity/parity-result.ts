import type { GoldenKind } from '../keras/bundle-manifest.js';
import type { TensorComparison } from './compare-tensors.js';

/**
 * Results are plain data: saved as JSON (schema keras-bridge-parity v2, results-schema.ts, which
 * checks these types against its zod schema), printed by report/, read back by load-results.ts.
 */
export interface TensorParity {
  kind: Exclude<GoldenKind, 'input' | 'cotangent'>;
  /** "output 0 (dense_1)", "layer dense", "grad input 0 (input_layer)", "grad sequential/dense/kernel" */
  label: string;
  layer: string | null;
  /** 'keras', 'autodiff' or 'finite_difference': where the expected value came from. */
  source: string;
  /**
   * The expected value's own error, added to atol: a finite-difference reference's estimated error,
   * plus `float64Error` when the exporter measured it.
   */
  referenceError: number | null;
  /**
   * The part of referenceError that is Keras's own float32 error, measured against a float64 copy of
   * the model (export --float64-reference); null when not measured or not added (a layer run alone).
   */
  float64Error: number | null;
  /**
   * The float64 error of the farthest of Keras's other float32 kernel variants (export
   * --float64-reference); with float64Error, atol gains float64Error + max(float64Error, this).
   */
  kernelVariantError: number | null;
  comparison: TensorComparison;
}

/**
 * 'pass': every tensor compared and within tolerance; 'fail': a compared tensor out of tolerance;
 * 'incomplete': every compared tensor within tolerance, but gradients were not compared because a
 * layer runs an operation tfjs cannot differentiate (gradientsNotCompared says which). A run's
 * outcome is its worst: fail, then incomplete, then pass.
 */
export type ParityOutcome = 'pass' | 'fail' | 'incomplete';

/** The worst of several outcomes. */
export function worstOutcome(outcomes: readonly ParityOutcome[]): ParityOutcome {
  if (outcomes.includes('fail')) return 'fail';
  return outcomes.includes('incomplete') ? 'incomplete' : 'pass';
}

export interface BackendParity {
  backend: string;
  /** backendVerdict's: 'pass' never while a gradient could not be compared; 'fail' when it could not run. */
  outcome: ParityOutcome;
  /**
   * Why the backend could not run the model to the end: the error one of its kernels threw on this
   * model. Nothing is compared then, and the outcome is 'fail'; the run goes on with the other
   * backends and bundles. Absent when it ran.
   */
  runError?: string;
  /**
   * Why the end-to-end gradients (inputs, weights, layer outputs) were not compared: tfjs cannot
   * differentiate an operation a layer runs, named with the layer; else null. Outputs and layer
   * outputs are still compared, and the layer-isolated backward pass of every other layer.
   */
  gradientsNotCompared: string | null;
  /** The first layer out of tolerance whose inputs were within it (first-diverging-layer.ts). */
  firstDivergingLayer: string | null;
  /**
   * The backward pass's: from the outputs back, the first layer whose output gradient is within
   * tolerance while its weight gradients or the gradient it sends back are not. null when none, or
   * when the bundle has no output-gradient goldens.
   */
  firstDivergingLayerBackward: string | null;
  seconds: number;
  tensors: TensorParity[];
  /** Present when the bundle has training-mode goldens. */
  training?: TrainingModeParity;
  /** Present when the bundle has after-training goldens. */
  afterTraining?: AfterTrainingParity;
  /** Layer-isolated mode: each layer run alone on Keras's outputs of the layers feeding it. */
  isolated: {
    tensors: TensorParity[];
    /** Layers out of tolerance when run alone, in layer order: each is itself at fault. */
    failingLayers: string[];
    skipped: Array<{ layer: string; reason: string }>;
    /** Each layer's backward pass alone: Keras's output gradient backpropagated through it on Keras's inputs. */
    gradients: IsolatedGradientParity;
  };
  /**
   * The sections of parity modes registered beyond the built-in ones (parity/modes/), by mode name:
   * a new mode needs no new field here. Absent when no such mode ran.
   */
  modes?: Record<string, ModeSection>;
}

/** A registered mode's own section of a backend's results. */
export interface ModeSection {
  tensors: TensorParity[];
  /** Why the mode compared nothing, else null. */
  notCompared: string | null;
}

/** Layer-isolated gradients (isolated-gradients.ts): weight gradients, and gradients into inputs used once. */
export interface IsolatedGradientParity {
  tensors: TensorParity[];
  /** Layers whose backward pass is out of tolerance alone, in layer order: each is itself at fault. */
  failingLayers: string[];
  /** Layers, or parts of them, not checked alone, with why. */
  skipped: Array<{ layer: string; reason: string }>;
  /** Why no layer was checked (the bundle has no grad_layer_output goldens), else null. */
  unavailable: string | null;
}

/** Training mode (evaluate-training.ts): the model called with training=true, random draws replayed from the bundle. */
export interface TrainingModeParity {
  /** Every compared tensor passes (true when nothing could be compared: see notCompared). */
  passed: boolean;
  /** Outputs, layer outputs, weights the pass updated (moving statistics) and gradients, labelled "training: ...". */
  tensors: TensorParity[];
  /** Random draws the exporter recorded, replayed into the tfjs layers. */
  randomDraws: number;
  /** Why training mode was not compared (the exporter could not record it, or tfjs could not replay its draws), else null. */
  notCompared: string | null;
  /** Why the training-mode gradients were not compared (a layer tfjs cannot differentiate) while its forward tensors were, else null. */
  gradientsNotCompared: string | null;
  /**
   * As BackendParity's, in training mode: the first layer whose output or state after the pass
   * (moving statistics) is out of tolerance while its inputs were within it.
   */
  firstDivergingLayer: string | null;
  /**
   * As BackendParity's, in training mode; null while the bundle has no training-mode output
   * gradients (the exporter records none: only input and weight gradients), as the rule needs them.
   */
  firstDivergingLayerBackward: string | null;
}

/** One TypeScript optimizer's run of the bundle's optimizer steps (evaluate-after-training.ts). */
export interface OptimizerParity {
  /** The Keras optimizer, as the exporter names it: "sgd", "adam". */
  optimizer: string;
  /** The TypeScript optimizer that ran: "tfjs tf.train.sgd", "keras-bridge KerasAdam", "tfjs tf.train.adam". */
  implementation: string;
  /** false: a known difference, reported with its numbers but not part of pass/fail. */
  counted: boolean;
  note: string | null;
  passed: boolean;
  /** Each trainable weight's change over the steps (after - before), tfjs's against Keras's. */
  tensors: TensorParity[];
  /** The loss before each step. */
  losses: { keras: number[]; tfjs: number[] };
  /** Why this optimizer was not run (an option keras-bridge does not reproduce), else null. */
  notCompared: string | null;
}

/** Parity after training: trainable weights after N optimizer steps, per optimizer. */
export interface AfterTrainingParity {
  steps: number;
  /** Every counted optimizer's tensors pass. */
  passed: boolean;
  optimizers: OptimizerParity[];
  /** Why the exporter recorded no runs, else null. */
  notCompared: string | null;
}

export interface ModelParity {
  bundle: string;
  /**
   * The bundle directory's name, which tells models apart in reports; for a model with open input
   * dimensions, followed by the golden case's sizes (`bert [padding_mask=7 token_ids=7]`).
   */
  model: string;
  /**
   * The golden case (docs/bundle-format.md, "Golden cases"): which size of a model with open input
   * dimensions this result is for; absent for a model without.
   */
  case?: { index: number; name: string; inputShapes: Record<string, number[]> };
  /** The model's name in Keras. */
  kerasModelName: string;
  /** Its layers in Keras's order (graph order), for per-layer charts. */
  layerOrder: string[];
  /** The worst of its backends' outcomes. */
  outcome: ParityOutcome;
  /**
   * The converter's warnings about this model that explain parity failures (a Keras weight that
   * breaks its own constraint, which tfjs applies on load).
   */
  conversionWarnings: string[];
  backends: BackendParity[];
}

export interface ParityRun {
  schema: 'keras-bridge-parity';
  /** 2: `passed` gave way to `outcome`, every field is always present, non-finite numbers are strings (results-schema.ts). */
  schemaVersion: 2;
  /** The worst of its models' outcomes; 'fail' when no backend could run (nothing was compared). */
  outcome: ParityOutcome;
  models: ModelParity[];
  /** Backends asked for that could not run, with why. */
  unavailableBackends: { backend: string; reason: string }[];
  /** What the backends that ran run on, where they say (wasm's threads, webgpu's adapter); absent when none does. */
  backendDetails?: { backend: string; details: string }[];
}
