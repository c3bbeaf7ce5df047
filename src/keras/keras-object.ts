import { z } from 'zod';

/**
 * A Keras 3 serialized object: what `keras.saving.serialize_keras_object` writes for layers,
 * models, initializers, dtype policies, etc.
 */
export interface KerasObject {
  module?: string | null;
  class_name: string;
  config: Record<string, unknown>;
  registered_name?: string | null;
  build_config?: Record<string, unknown> | null;
  compile_config?: Record<string, unknown> | null;
  [extra: string]: unknown;
}

export const kerasObjectSchema: z.ZodType<KerasObject> = z
  .object({
    module: z.string().nullable().optional(),
    class_name: z.string(),
    config: z.record(z.unknown()),
    registered_name: z.string().nullable().optional(),
    build_config: z.record(z.unknown()).nullable().optional(),
    compile_config: z.record(z.unknown()).nullable().optional(),
  })
  .passthrough();

export function isKerasObject(value: unknown): value is KerasObject {
  return kerasObjectSchema.safeParse(value).success;
}

/** True for classes that ship with Keras itself (module `keras`, `keras.layers`, `keras.src...`). */
export function isBuiltinKerasModule(module: string | null | undefined): boolean {
  return module === 'keras' || (module?.startsWith('keras.') ?? false);
}
