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

/**
 * What kerasObjectSchema accepts, checked by hand: conversion asks it of every value of every
 * layer's config, and zod's parse (which copies each object it passes) took 26 of the 90 ms of
 * planning ResNet50's conversion. test/keras/keras-object.test.ts holds the two to the same answers.
 */
export function isKerasObject(value: unknown): value is KerasObject {
  if (!isRecordLike(value)) return false;
  const { module, class_name, config, registered_name, build_config, compile_config } = value as Record<string, unknown>;
  return (
    typeof class_name === 'string' &&
    isRecordLike(config) &&
    isOptional(module, (v) => typeof v === 'string') &&
    isOptional(registered_name, (v) => typeof v === 'string') &&
    isOptional(build_config, isRecordLike) &&
    isOptional(compile_config, isRecordLike)
  );
}

/** An object zod's z.object and z.record take: not null, an array, a function, a Date, a Map, a Set or a Promise. */
function isRecordLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Map) && !(value instanceof Set) && !(value instanceof Promise);
}

/** Absent, null, or what `check` accepts (zod's `.nullable().optional()`). */
function isOptional(value: unknown, check: (value: unknown) => boolean): boolean {
  return value === undefined || value === null || check(value);
}

/** True for classes that ship with Keras itself (module `keras`, `keras.layers`, `keras.src...`). */
export function isBuiltinKerasModule(module: string | null | undefined): boolean {
  return module === 'keras' || (module?.startsWith('keras.') ?? false);
}
