import type * as tf from '@tensorflow/tfjs';
import type { Bundle } from '../../keras/bundle.js';
import type { BackendParity, TensorParity } from '../parity-result.js';
import type { TolerancePolicy } from '../tolerance-policy.js';
import type { SharedResources } from './shared-resources.js';

/** A registered mode's name: 'end-to-end', 'layer-alone-forward', 'training', ... */
export type ParityMode = string;

/** A compared tensor with its mode; `counted: false` is a known difference reported with its numbers (tfjs's stock Adam), never a failure. */
export interface ComparedTensor {
  mode: ParityMode;
  tensor: TensorParity;
  counted: boolean;
}

/**
 * Something that was not compared, and why. `incomplete`: it keeps the outcome from 'pass' (exit 3,
 * README: gradients tfjs cannot differentiate); otherwise it is reported only (training mode whose
 * draws cannot be replayed keeps exit 0: inference was compared).
 */
export interface NotCompared {
  /** 'gradients', 'training', 'training gradients', 'after training', 'optimizer', 'layer-alone gradients', ... */
  what: string;
  reason: string;
  incomplete: boolean;
  /** For 'optimizer': which run ("sgd with tfjs tf.train.sgd"). */
  optimizer?: string;
}

/** What a mode's evaluation runs on: the converted model on the active backend, in Node or in a browser page. */
export interface ModeEvaluationContext {
  /** Loaded once for the modes that share it; a mode must leave its weights as it found them. */
  model: tf.LayersModel;
  /** A fresh copy of the converted model, for a mode that changes weights (after training); the mode disposes it. */
  loadModel: () => Promise<tf.LayersModel>;
  bundle: Bundle;
  /** Loaded once for the modes that ask for it by the same key, disposed after the last mode. */
  shared: SharedResources;
}

/** What a mode's comparison with the goldens needs besides its evaluation. */
export interface ModeComparisonContext {
  bundle: Bundle;
  backend: string;
  policy: TolerancePolicy;
  /** The model's layers in Keras's order. */
  layerOrder: string[];
  /** Each layer's input layers (layer-inputs.ts), for first-diverging-layer. */
  inputsOf: Map<string, string[]>;
}

/** The parts of a backend's results the verdict and the reports read (a backend's parity before its outcome exists). */
export type BackendSections = Pick<BackendParity, 'tensors' | 'isolated' | 'training' | 'afterTraining' | 'gradientsNotCompared' | 'firstDivergingLayer' | 'firstDivergingLayerBackward' | 'modes' | 'runError'>;

/** A backend's sections while the modes fill them in, in registration order. */
export type BackendSectionsDraft = Partial<BackendSections>;

/** Paints text for a terminal (ANSI colour) or leaves it plain. */
export type Paint = (text: string, code: number) => string;

/** One JUnit test case of a mode: its tensors, or why it is a skipped test case (not compared, or not counted). */
export interface ReportGroup {
  name: string;
  tensors: TensorParity[];
  skipped?: string;
  /** Where the test case goes among all modes' groups (stable sort): forward before backward, as readers scan them. */
  rank: number;
}

/** One series of the HTML report's error-by-layer chart. */
export interface ChartSeries {
  /** CSS class of its points and line; "out" (end-to-end layer outputs) is also what tests look for. */
  cls: string;
  legend: string;
  marker: 'circle' | 'square' | 'triangle' | 'diamond';
  hollow: boolean;
  tensors: (backend: BackendParity) => TensorParity[];
  /** Where the series goes among all modes' series (stable sort). */
  rank: number;
}

/**
 * A parity mode: how it evaluates the converted model, what it compares with the goldens and
 * where in a backend's results that goes, how its tensors count towards pass or fail, and how the
 * reports show it. Adding a mode is one file that registers one of these (modes/index.ts); the
 * evaluation entry point, the comparison, the verdict, the table, JUnit, HTML and expectParity
 * iterate the registered modes.
 *
 * `Evaluation` is plain data (numbers, strings, arrays, objects, Maps and typed arrays), so that a
 * browser page's evaluation crosses to Node through one codec (tensor-codec.ts).
 */
export interface ParityModeDefinition<Evaluation = unknown> {
  name: ParityMode;
  /** How the mode reads in a failure line: "end to end", "layer alone, forward". */
  title: string;
  /** Runs the mode on the active backend; null when the bundle has nothing for it. */
  evaluate(context: ModeEvaluationContext): Promise<Evaluation | null>;
  /** Compares the evaluation with the goldens and writes the mode's section(s) of the backend's results. */
  compare(context: ModeComparisonContext, evaluation: Evaluation | null, draft: BackendSectionsDraft): void;
  /** Its compared tensors in saved results, in report order, each counted or not. */
  compared(backend: BackendSections): ComparedTensor[];
  /** What it did not compare in saved results, and whether that keeps the outcome from 'pass'. */
  notCompared(backend: BackendSections): NotCompared[];
  /** Whether the terminal table has a row per tensor of this mode (else only its summary lines). */
  tableRows: boolean;
  /** Its summary lines for one model on one backend (terminal and HTML). */
  summaryLines(model: string, backend: BackendParity, paint: Paint): string[];
  /** Where it first parts from Keras, one sentence each (none when it does not). */
  divergenceLines(model: string, backend: BackendParity): string[];
  /** Its JUnit test cases for one backend, given what it did not compare. */
  reportGroups(backend: BackendParity, notCompared: NotCompared[]): ReportGroup[];
  /** Its series in the HTML error-by-layer chart. */
  chartSeries: ChartSeries[];
}
