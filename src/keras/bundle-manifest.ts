import { z } from 'zod';

/** Schema of manifest.json, format version 1 (docs/bundle-format.md). */
export const BUNDLE_FORMAT = 'keras-bridge-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

const shape = z.array(z.number().int().nonnegative().nullable());
const dtype = z.enum(['float32', 'float64', 'int32', 'int64', 'bool']);
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
  reference_error: z.number().nonnegative().nullable().optional(),
};
const goldenTensor = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('input'), index: z.number().int(), name: z.string(), ...goldenBase }),
  z.object({ kind: z.literal('output'), index: z.number().int(), name: z.string(), ...goldenBase }),
  z.object({ kind: z.literal('cotangent'), index: z.number().int(), ...goldenBase }),
  z.object({
    kind: z.literal('layer_output'),
    layer: z.string(),
    node: z.number().int(),
    index: z.number().int(),
    ...goldenBase,
  }),
  z.object({ kind: z.literal('grad_input'), index: z.number().int(), name: z.string(), ...goldenBase }),
  z.object({
    kind: z.literal('grad_weight'),
    layer: z.string(),
    index: z.number().int(),
    name: z.string(),
    path: z.string(),
    ...goldenBase,
  }),
]);
export type GoldenTensorRecord = z.infer<typeof goldenTensor>;
export type GoldenKind = GoldenTensorRecord['kind'];

const modelIo = z.object({ name: z.string(), shape, dtype });

export const bundleManifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  format_version: z.number().int(),
  producer: z.record(z.string()),
  model: z.object({ name: z.string(), class_name: z.string(), config_file: z.string() }),
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
    }),
  ),
  weights: z.array(storedWeight),
  goldens: z.object({
    file: z.string(),
    loss: z.object({ definition: z.string(), value: z.number() }),
    gradients: z.object({
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
    }),
    tensors: z.array(goldenTensor),
  }),
});
export type BundleManifest = z.infer<typeof bundleManifestSchema>;
