import { z } from 'zod';

/** Schema of manifest.json, format version 1 (docs/bundle-format.md). */
export const BUNDLE_FORMAT = 'keras-bridge-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

const shape = z.array(z.number().int().nonnegative().nullable());
// uint8, int8, uint16 and int16 are for model inputs (an image as uint8), fed to tfjs as int32.
const dtype = z.enum(['float32', 'float64', 'int32', 'int64', 'bool', 'uint8', 'int8', 'uint16', 'int16']);
export type BundleDtype = z.infer<typeof dtype>;

const tensorLocation = {
  shape: z.array(z.number().int().nonnegative()),
  dtype,
  offset: z.number().int().nonnegative(),
  byte_length: z.number().int().nonnegative(),
};

const weightRecord = z.object({
  name: z.string(),
  path: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype,
  trainable: z.boolean(),
});

/**
 * The SavedModel's `gradients` signature (python/keras_bridge/gradients_endpoint.py): the model's
 * inputs, a cotangent per float output and every weight of the manifest's `weights` fed in; the
 * outputs, and the loss's gradients w.r.t. each float input and each trainable weight, out.
 */
const gradientsEndpoint = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('exported'),
    endpoint: z.string(),
    /** Input names of the cotangents, each with the index of the model output it weighs. */
    cotangents: z.array(z.object({ output: z.number().int().nonnegative(), name: z.string() })),
    /** Input names of the weights, one per entry of the manifest's `weights`, in its order. */
    weights: z.array(z.string()),
    /** Output names of the input gradients, by model input index (float inputs only). */
    grad_inputs: z.array(z.object({ input: z.number().int().nonnegative(), name: z.string() })),
    /** Output names of the weight gradients, by index into the manifest's `weights` (trainable ones only). */
    grad_weights: z.array(z.object({ weight: z.number().int().nonnegative(), name: z.string() })),
  }),
  z.object({ status: z.literal('skipped'), reason: z.string() }),
]);
export type GradientsEndpointRecord = z.infer<typeof gradientsEndpoint>;

/** The class a recorded subclassed model graph was (docs/bundle-format.md, "Subclassed functional models"). */
const subclassedModelRecord = z.object({ class_name: z.string(), registered_name: z.string().nullable(), module: z.string().nullable() });

const layerRecord = z.object({
  name: z.string(),
  class_name: z.string(),
  registered_name: z.string().nullable(),
  module: z.string().nullable(),
  custom: z.boolean(),
  config: z.record(z.unknown()),
  input_shapes: z.array(shape),
  output_shapes: z.array(shape),
  python_differentiable: z.boolean(),
  non_differentiable_ops: z.array(z.string()),
  weights: z.array(weightRecord),
  /** A subclassed functional model used as a layer: its original class (its recorded graph is `config`). */
  subclassed_model: subclassedModelRecord.optional(),
});
export type LayerRecord = z.infer<typeof layerRecord>;

const storedWeight = z.object({
  layer: z.string(),
  index: z.number().int().nonnegative(),
  name: z.string(),
  path: z.string(),
  trainable: z.boolean(),
  ...tensorLocation,
});
export type StoredWeight = z.infer<typeof storedWeight>;

const goldenBase = {
  ...tensorLocation,
  source: z.enum(['keras', 'autodiff', 'finite_difference']),
  /** Added to atol: a finite-difference estimate, plus float64_error when measured. */
  reference_error: z.number().nonnegative().nullable().optional(),
  /** Keras's own float32 error, measured against a float64 copy (export --float64-reference); null: not measured. */
  float64_error: z.number().nonnegative().nullable().optional(),
  /**
   * How far the farthest of Keras's other float32 kernel variants (oneDNN on, capped at AVX2, off) is
   * from the same float64 values; absent: not measured (docs/tolerances.md).
   */
  kernel_variant_error: z.number().nonnegative().nullable().optional(),
};
const outputGolden = z.object({ kind: z.literal('output'), index: z.number().int(), name: z.string(), ...goldenBase });
const layerOutputGolden = z.object({
  kind: z.literal('layer_output'),
  layer: z.string(),
  node: z.number().int(),
  index: z.number().int(),
  ...goldenBase,
});
const gradInputGolden = z.object({ kind: z.literal('grad_input'), index: z.number().int(), name: z.string(), ...goldenBase });
const gradWeightGolden = z.object({
  kind: z.literal('grad_weight'),
  layer: z.string(),
  index: z.number().int(),
  name: z.string(),
  path: z.string(),
  ...goldenBase,
});
/** dL/dy for an output tensor of a layer's node 0 (optional: see goldens.gradients.layer_output_gradients). */
const gradLayerOutputGolden = z.object({
  kind: z.literal('grad_layer_output'),
  layer: z.string(),
  node: z.number().int(),
  index: z.number().int(),
  ...goldenBase,
});
/** How an input's golden values were drawn (docs/bundle-format.md, "Golden inputs"); at most one, absent for a plain float input. */
const inputDrawRecord = {
  integer_range: z.object({ low: z.number().int(), high: z.number().int(), origin: z.string() }).optional(),
  padding_mask: z.object({ lengths: z.array(z.number().int().nonnegative()), origin: z.string() }).optional(),
  bool_values: z.object({ true_probability: z.number(), origin: z.string(), true_count: z.number().int().nonnegative(), false_count: z.number().int().nonnegative() }).optional(),
  /** A float input read by a Masking layer: how many timesteps took its mask value. */
  masked_timesteps: z.object({ layer: z.string(), mask_value: z.number(), count: z.number().int().nonnegative() }).optional(),
};
const goldenTensor = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('input'), index: z.number().int(), name: z.string(), ...inputDrawRecord, ...goldenBase }),
  outputGolden,
  /** `name`: the output's (absent in older bundles). */
  z.object({
    kind: z.literal('cotangent'),
    index: z.number().int(),
    name: z.string().optional(),
    /** Why the cotangent is all zeros: an output of a dtype outside the loss (docs/bundle-format.md). */
    zero: z.string().optional(),
    ...goldenBase,
  }),
  layerOutputGolden,
  gradInputGolden,
  gradWeightGolden,
  gradLayerOutputGolden,
]);

// ---- training mode and after training (optional sections: bundles without them still read) ----

const weightGolden = { layer: z.string(), index: z.number().int(), name: z.string(), path: z.string(), ...goldenBase };
/** A non-trainable weight (BatchNormalization's moving statistics), or one the pass changed, after the training-mode pass. */
const weightAfterPassGolden = z.object({ kind: z.literal('weight_after_pass'), ...weightGolden });
/** A trainable weight after the optimizer steps of an after-training run. */
const trainedWeightGolden = z.object({ kind: z.literal('trained_weight'), ...weightGolden });

const trainingGoldenTensor = z.discriminatedUnion('kind', [outputGolden, layerOutputGolden, gradInputGolden, gradWeightGolden, weightAfterPassGolden]);

/** One random draw of a layer call, as the exporter recorded it (python/keras_bridge/random_draws.py). */
const randomDrawRecord = z.object({
  kind: z.literal('random_draw'),
  /** Layer names from a layer of the model down to the one whose call drew. */
  layer_path: z.array(z.string()).min(1),
  call: z.number().int().nonnegative(),
  index: z.number().int().nonnegative(),
  /** dropout, uniform, normal or truncated_normal; the values are the standard draw (U[0,1) or N(0,1)). */
  function: z.string(),
  parameters: z.record(z.number()),
  ...tensorLocation,
});
export type RandomDrawRecord = z.infer<typeof randomDrawRecord>;

const trainingSection = z.union([
  z.object({ skipped: z.string() }),
  z.object({
    random_draws: z.object({ generator: z.string(), draws: z.array(randomDrawRecord) }),
    loss: z.object({ definition: z.string(), value: z.number() }),
    tensors: z.array(trainingGoldenTensor),
  }),
]);
export type TrainingSection = z.infer<typeof trainingSection>;

const optimizerRun = z.object({
  optimizer: z.string(),
  class_name: z.string(),
  config: z.record(z.unknown()),
  /** The loss before each step. */
  losses: z.array(z.number()),
  tensors: z.array(trainedWeightGolden),
});
export type OptimizerRunRecord = z.infer<typeof optimizerRun>;

const afterTrainingSection = z.union([
  z.object({ steps: z.number().int().nonnegative(), skipped: z.string() }),
  z.object({
    steps: z.number().int().positive(),
    loss: z.object({ definition: z.string(), training: z.boolean() }),
    gradients: z.string(),
    runs: z.array(optimizerRun),
  }),
]);
export type AfterTrainingSection = z.infer<typeof afterTrainingSection>;

export type GoldenTensorRecord = z.infer<typeof goldenTensor> | z.infer<typeof weightAfterPassGolden> | z.infer<typeof trainedWeightGolden>;
export type GoldenKind = GoldenTensorRecord['kind'];

/** A golden the float64 copy could not measure: its section and what tells it apart there. */
const goldenRef = z
  .object({
    section: z.enum(['goldens', 'training', 'after_training']),
    kind: z.string(),
    optimizer: z.string().optional(),
    layer: z.string().optional(),
    node: z.number().int().optional(),
    index: z.number().int().optional(),
    name: z.string().optional(),
  })
  .strict();

const referenceSection = z.object({
  float64: z.boolean(),
  definition: z.string(),
  measured: z.number().int().nonnegative(),
  not_measured_count: z.number().int().nonnegative(),
  not_measured: z.array(z.object({ reason: z.string(), goldens: z.array(goldenRef) })),
  /** The kernel-variant runs behind each golden's kernel_variant_error; absent with --no-kernel-variants. */
  kernel_variants: z
    .object({
      definition: z.string(),
      export_variant: z.string(),
      measured: z.number().int().nonnegative(),
      variants: z.array(z.object({ name: z.string(), env: z.record(z.string()), measured: z.boolean(), reason: z.string().optional() })),
    })
    .optional(),
});
export type ReferenceSection = z.infer<typeof referenceSection>;

const modelIo = z.object({ name: z.string(), shape, dtype });

/** A dict of model inputs or outputs: its keys in Keras's flattened order (sorted), the order of `inputs`/`outputs`. */
const ioStructure = z.object({ kind: z.literal('dict'), keys: z.array(z.string()) });

const layerOutputGradientsRecord = z.object({
  policy: z.enum(['auto', 'always', 'never']),
  included: z.boolean(),
  bytes: z.number().int(),
  auto_limit_bytes: z.number().int(),
});

const gradientsRecord = z.object({
  method: z.enum(['autodiff', 'autodiff+finite_difference']),
  finite_difference_layers: z.array(z.string()),
  finite_difference: z
    .object({
      scheme: z.string(),
      arithmetic_dtype: z.string(),
      evaluated_dtype: z.string(),
      relative_step: z.number(),
    })
    .nullable()
    .optional(),
  /** Whether the grad_layer_output goldens were included, and why (absent before they existed). */
  layer_output_gradients: layerOutputGradientsRecord.optional(),
});

/** The concrete input shapes (batch included) a golden case was recorded at (models with open dimensions). */
const goldenCaseRecord = z.object({
  name: z.string(),
  input_shapes: z.record(z.array(z.number().int().nonnegative())),
  origins: z.record(z.string()).optional(),
});
export type GoldenCaseRecord = z.infer<typeof goldenCaseRecord>;

/** Another size's goldens (docs/bundle-format.md, "Golden cases"): as the main section, without training mode, after training or reference. */
const otherSizeGoldens = goldenCaseRecord.extend({
  generator: z.string(),
  loss: z.object({ definition: z.string(), value: z.number() }),
  gradients: gradientsRecord,
  tensors: z.array(goldenTensor),
});
export type OtherSizeGoldens = z.infer<typeof otherSizeGoldens>;

/** A Python class's origin: file, line and text, or why its source could not be read. */
const classSource = z.object({
  module: z.string(),
  qualname: z.string(),
  file: z.string().optional(),
  line: z.number().int().positive().optional(),
  text: z.string().optional(),
  unavailable: z.string().optional(),
});
export type ClassSource = z.infer<typeof classSource>;

/** A construct in a custom layer's call() that only Python can run, found by the exporter's static analysis. */
const pythonOnlyFinding = z.object({
  construct: z.string(),
  function: z.string(),
  file: z.string(),
  line: z.number().int().positive(),
  code: z.string(),
  detail: z.string(),
});
export type PythonOnlyFinding = z.infer<typeof pythonOnlyFinding>;

const pythonOnlyRecord = z.object({
  analyzed: z.array(z.string()),
  unanalyzed: z.string().nullable(),
  findings: z.array(pythonOnlyFinding),
});
export type PythonOnlyRecord = z.infer<typeof pythonOnlyRecord>;

/** A weight of a custom layer itself (not of its sub-layers), as a re-trace references it. */
const retraceWeight = z.object({ path: z.string(), shape, dtype, trainable: z.boolean() });

/**
 * A custom layer's call() re-traced on symbolic inputs (docs/bundle-format.md, "Symbolic re-trace"):
 * a Keras functional config whose operation nodes may take `__keras_bridge_weight__` references to
 * `own_weights`, or why it could not be traced.
 */
const retraceRecord = z.discriminatedUnion('status', [
  z.object({
    layer: z.string(),
    status: z.literal('traced'),
    config: z.record(z.unknown()),
    own_weights: z.array(retraceWeight),
    layer_paths: z.record(z.string()),
  }),
  z.object({ layer: z.string(), status: z.literal('refused'), reason: z.string() }),
]);
export type RetraceRecord = z.infer<typeof retraceRecord>;

/** Where a translation (route 1) stopped: the Python line it could not translate, and why. */
const translationGap = z.object({ why: z.string(), file: z.string().optional(), line: z.number().int().optional(), code: z.string().optional() });
export type TranslationGapRecord = z.infer<typeof translationGap>;

/**
 * A custom class's Python source translated to a TypeScript module (docs/bundle-format.md,
 * "Translations"), or the gaps that kept it from being translated.
 */
const translationRecord = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('translated'),
    typescript: z.string(),
    dependencies: z.array(z.string()),
    notes: z.array(translationGap).optional(),
    /** Per layer of the class: Keras's names of its sub-layers, by attribute (translated/translated-layer.ts). */
    sub_layers: z.record(z.record(z.unknown())).optional(),
  }),
  /** `draft`: the TypeScript with each gap marked (a TODO and a throw), for `keras-bridge scaffold`; never converted from. */
  z.object({ status: z.literal('gaps'), gaps: z.array(translationGap), draft: z.string().optional() }),
]);
export type TranslationRecord = z.infer<typeof translationRecord>;

/**
 * A tensor of a custom layer's graph: a Placeholder (inputs) or `node:0` (outputs), batch dimension
 * null. An input passed to call() as a keyword argument (`padding_mask=m`) names it in `keyword`.
 */
const graphIo = z.object({ name: z.string(), shape: z.array(z.number().int().nullable()), dtype: z.string(), keyword: z.string().optional() });

/** One traced graph: tfjs GraphModel JSON whose Const values lie in graphs.bin. */
const fixedShape = z.array(z.number().int().nonnegative());
const tracedGraph = z.object({
  topology: z.record(z.unknown()),
  constants: z.array(z.object({ name: z.string(), shape: fixedShape, dtype, offset: z.number().int().nonnegative(), byte_length: z.number().int().nonnegative() })),
  nodes: z.number().int(),
  constant_bytes: z.number().int(),
  /** Every op type of the graph, with the user's line that made the first one where it is in the class's file. */
  ops: z.array(z.object({ op: z.string(), at: z.string().optional() })),
});

/**
 * A custom layer's call() traced into a TensorFlow graph (route 3, docs/bundle-format.md, "Graph
 * fallback"): the layer's variables are Placeholders (`weights[].input`), fed by the converted layer.
 */
const graphRecord = z.discriminatedUnion('status', [
  z.object({
    layer: z.string(),
    status: z.literal('traced'),
    inputs: z.array(graphIo),
    outputs: z.array(graphIo),
    weights: z.array(z.object({ input: z.string(), path: z.string(), name: z.string(), shape: fixedShape, dtype, trainable: z.boolean() })),
    graphs: z.object({ inference: tracedGraph, training: tracedGraph.optional() }),
  }),
  z.object({ layer: z.string(), status: z.literal('refused'), reason: z.string() }),
]);
export type GraphRecord = z.infer<typeof graphRecord>;
export type TracedGraph = z.infer<typeof tracedGraph>;

export const bundleManifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  format_version: z.number().int(),
  producer: z.record(z.string()),
  model: z.object({
    name: z.string(),
    class_name: z.string(),
    config_file: z.string(),
    subclassed_model: subclassedModelRecord.optional(),
    /** Which of inputs and outputs are dicts (absent: tensors or lists). */
    structure: z.object({ inputs: ioStructure.optional(), outputs: ioStructure.optional() }).optional(),
  }),
  seed: z.number().int(),
  batch_size: z.number().int().positive(),
  inputs: z.array(modelIo),
  outputs: z.array(modelIo),
  layers: z.array(layerRecord),
  custom_layers: z.array(
    z.object({
      class_name: z.string(),
      registered_name: z.string().nullable(),
      module: z.string().nullable(),
      layers: z.array(z.string()),
      /** Where the class comes from (docs/bundle-format.md, "Custom class sources"); absent in older bundles. */
      source: classSource.optional(),
      base_sources: z.array(classSource).optional(),
      python_only: pythonOnlyRecord.optional(),
      /** One per layer of the class; absent in bundles exported before route 2. */
      retraces: z.array(retraceRecord).optional(),
      /** Absent in bundles exported before route 1. */
      translation: translationRecord.optional(),
      /** One per layer of the class; absent in bundles exported before route 3. Constants in graphs.bin. */
      graphs: z.array(graphRecord).optional(),
    }),
  ),
  /** Registered custom activation functions the model's layers name, translated (route 1); absent when none. */
  custom_activations: z
    .array(
      z.discriminatedUnion('status', [
        z.object({ name: z.string(), status: z.literal('translated'), function: z.string(), typescript: z.string() }),
        z.object({ name: z.string(), status: z.literal('gaps'), gaps: z.array(translationGap) }),
      ]),
    )
    .optional(),
  weights: z.array(storedWeight),
  /** The model as a TensorFlow SavedModel (export --saved-model, docs/native-graph.md); absent unless asked for. */
  saved_model: z
    .discriminatedUnion('status', [
      z.object({
        status: z.literal('exported'),
        /** Its folder in the bundle. */
        dir: z.literal('saved_model'),
        /** The signature that runs the model at inference. */
        endpoint: z.string(),
        /** The signature's input names, in the order of the model's inputs (golden input 0, 1, ...). */
        inputs: z.array(z.string()),
        /** Its output names, in the order of the model's outputs. */
        outputs: z.array(z.string()),
        /** The signature that computes outputs and gradients (docs/native-graph.md); absent in bundles before it. */
        gradients: gradientsEndpoint.optional(),
      }),
      z.object({ status: z.literal('skipped'), reason: z.string() }),
    ])
    .optional(),
  goldens: z.object({
    file: z.string(),
    loss: z.object({ definition: z.string(), value: z.number() }),
    gradients: gradientsRecord,
    tensors: z.array(goldenTensor),
    /** The sizes these goldens were recorded at, for a model with open input dimensions; absent otherwise. */
    case: goldenCaseRecord.optional(),
    /** The goldens at other sizes, each its own parity case; absent when there is one size. */
    cases: z.array(otherSizeGoldens).optional(),
    /** How reference errors were measured beyond finite differences (export --float64-reference); absent otherwise. */
    reference: referenceSection.optional(),
    /** Training mode (docs/bundle-format.md); absent when it computes what inference does. */
    training: trainingSection.optional(),
    /** Trainable weights after N optimizer steps per optimizer; absent unless exported with train_steps. */
    after_training: afterTrainingSection.optional(),
  }),
});
export type BundleManifest = z.infer<typeof bundleManifestSchema>;
