import { z } from 'zod';
import { DECISION_STATISTICS, type DecisionStatistic, type TensorComparison } from './compare-tensors.js';
import type {
  AfterTrainingParity,
  BackendParity,
  IsolatedGradientParity,
  ModeSection,
  ModelParity,
  OptimizerParity,
  ParityOutcome,
  ParityRun,
  TensorParity,
  TrainingModeParity,
} from './parity-result.js';

/**
 * The saved results (`parity --json FILE`): schema 'keras-bridge-parity', version 2. This zod
 * schema is what a results file must be; the types of parity-result.ts are checked against it
 * below, so neither can change alone. docs/results-format.md describes the fields.
 */
export const RESULTS_SCHEMA = 'keras-bridge-parity';
export const RESULTS_SCHEMA_VERSION = 2;

/**
 * JSON has no Infinity or NaN (JSON.stringify writes null, which reads back as neither), so v2
 * writes them as the strings 'Infinity', '-Infinity' and 'NaN', as protobuf's JSON mapping does.
 * A shape mismatch has an infinite error; a diverged training run a NaN loss.
 */
const NON_FINITE = new Map<string, number>([
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['NaN', NaN],
]);

/** A float that may be non-finite: a number, or one of NON_FINITE's strings. */
const real = z.preprocess(
  (v) => (typeof v === 'string' && NON_FINITE.has(v) ? NON_FINITE.get(v) : v),
  z.custom<number>((v) => typeof v === 'number', { message: "expected a number (or the string 'Infinity', '-Infinity' or 'NaN')" }),
);
const count = z.number().int().nonnegative();
const outcome = z.enum(['pass', 'fail', 'incomplete']);
const skipped = z.array(z.object({ layer: z.string(), reason: z.string() }));

const tensorComparison = z.object({
  shape: z.array(count),
  elements: count,
  tolerance: z.object({ atol: z.number().nonnegative(), rtol: z.number().nonnegative() }),
  statistic: z.enum(DECISION_STATISTICS as [DecisionStatistic, ...DecisionStatistic[]]),
  passed: z.boolean(),
  mismatches: count,
  fractionOutOfTolerance: real,
  maxAbsError: real,
  meanAbsError: real,
  medianAbsError: real,
  quantileAbsError: real,
  quantile: z.number(),
  maxRelError: real,
  nonFiniteActual: count,
  nonFiniteExpected: count,
  worst: z.object({ index: z.array(count), actual: real, expected: real, allowed: real }).nullable(),
  minPassingAtol: real,
  maxToleranceRatio: real,
  errorHistogram: z.array(count),
  shapeMismatch: z.string().optional(),
});

const tensorParity = z.object({
  kind: z.enum(['output', 'layer_output', 'grad_input', 'grad_weight', 'grad_layer_output', 'weight_after_pass', 'trained_weight']),
  label: z.string(),
  layer: z.string().nullable(),
  source: z.string(),
  referenceError: real.nullable(),
  float64Error: real.nullable(),
  kernelVariantError: real.nullable(),
  comparison: tensorComparison,
});

const isolatedGradientParity = z.object({
  tensors: z.array(tensorParity),
  failingLayers: z.array(z.string()),
  skipped,
  unavailable: z.string().nullable(),
});

const trainingModeParity = z.object({
  passed: z.boolean(),
  tensors: z.array(tensorParity),
  randomDraws: count,
  notCompared: z.string().nullable(),
  gradientsNotCompared: z.string().nullable(),
  firstDivergingLayer: z.string().nullable(),
  firstDivergingLayerBackward: z.string().nullable(),
});

const optimizerParity = z.object({
  optimizer: z.string(),
  implementation: z.string(),
  counted: z.boolean(),
  note: z.string().nullable(),
  passed: z.boolean(),
  tensors: z.array(tensorParity),
  losses: z.object({ keras: z.array(real), tfjs: z.array(real) }),
  notCompared: z.string().nullable(),
});

const afterTrainingParity = z.object({
  steps: count,
  passed: z.boolean(),
  optimizers: z.array(optimizerParity),
  notCompared: z.string().nullable(),
});

/** A section of a parity mode registered beyond the built-in ones (parity/modes/). */
const modeSection = z.object({ tensors: z.array(tensorParity), notCompared: z.string().nullable() });

const backendParity = z.object({
  backend: z.string(),
  outcome,
  runError: z.string().optional(),
  gradientsNotCompared: z.string().nullable(),
  firstDivergingLayer: z.string().nullable(),
  firstDivergingLayerBackward: z.string().nullable(),
  seconds: z.number().nonnegative(),
  tensors: z.array(tensorParity),
  training: trainingModeParity.optional(),
  afterTraining: afterTrainingParity.optional(),
  isolated: z.object({
    tensors: z.array(tensorParity),
    failingLayers: z.array(z.string()),
    skipped,
    gradients: isolatedGradientParity,
  }),
  modes: z.record(modeSection).optional(),
});

const modelParity = z.object({
  bundle: z.string(),
  model: z.string(),
  case: z.object({ index: count, name: z.string(), inputShapes: z.record(z.array(count)) }).optional(),
  kerasModelName: z.string(),
  layerOrder: z.array(z.string()),
  outcome,
  conversionWarnings: z.array(z.string()),
  backends: z.array(backendParity),
});

export const parityRunSchema = z.object({
  schema: z.literal(RESULTS_SCHEMA),
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  outcome,
  models: z.array(modelParity),
  unavailableBackends: z.array(z.object({ backend: z.string(), reason: z.string() })),
  backendDetails: z.array(z.object({ backend: z.string(), details: z.string() })).optional(),
});

/**
 * The results as saved: pretty JSON, non-finite numbers as strings (see NON_FINITE), keys in the
 * schema's order. The run goes through the schema first, as `report` reads it, so what `parity`
 * writes is what `report --json` writes again for it, byte for byte, and never a file `report`
 * would refuse.
 */
export function formatParityResults(run: ParityRun): string {
  return JSON.stringify(parityRunSchema.parse(run), (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value), 2) + '\n';
}

// parity-result.ts's types and this schema describe the same data: a field added to one and not
// the other stops the build here.
// Mutual assignability, and the same keys (an optional field on one side only is assignable both ways).
type Assignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Same<A, B> = Assignable<A, B> extends true ? Assignable<keyof A, keyof B> : false;
const sameTypes: [
  Same<z.infer<typeof outcome>, ParityOutcome>,
  Same<z.infer<typeof tensorComparison>, TensorComparison>,
  Same<z.infer<typeof tensorParity>, TensorParity>,
  Same<z.infer<typeof isolatedGradientParity>, IsolatedGradientParity>,
  Same<z.infer<typeof modeSection>, ModeSection>,
  Same<z.infer<typeof trainingModeParity>, TrainingModeParity>,
  Same<z.infer<typeof optimizerParity>, OptimizerParity>,
  Same<z.infer<typeof afterTrainingParity>, AfterTrainingParity>,
  Same<z.infer<typeof backendParity>, BackendParity>,
  Same<z.infer<typeof modelParity>, ModelParity>,
  Same<z.infer<typeof parityRunSchema>, ParityRun>,
] = [true, true, true, true, true, true, true, true, true, true, true];
void sameTypes;
