import tf from '#tfjs';
import { z } from 'zod';

/**
 * Fields Keras 3's base Layer.get_config() writes for every layer. A layer that defines neither
 * __init__ nor get_config gets Keras's automatic config, which also records Layer.__init__'s
 * `autocast` and `activity_regularizer` (and so does one whose get_config returns those kwargs).
 */
export const kerasBaseLayerConfigSchema = z.object({
  name: z.string(),
  trainable: z.boolean().optional(),
  // A string ("float32") or a serialized DTypePolicy object.
  dtype: z.union([z.string(), z.record(z.unknown())]).nullable().optional(),
  autocast: z.boolean().optional(),
  // null, or a serialized regularizer ({class_name, config}).
  activity_regularizer: z.record(z.unknown()).nullable().optional(),
});

/** A tfjs Layer class that tfjs's serialization registry can build from a config. */
export type CustomLayerClass = tf.serialization.SerializableConstructor<tf.layers.Layer> & {
  className: string;
};

export interface CustomLayerRegistration {
  /** Keras class name, as in the config's `class_name` (or its `registered_name`). */
  className: string;
  layerClass: CustomLayerClass;
  /** Validates the layer's Python get_config(), base fields included, unknown fields refused. */
  configSchema: z.ZodTypeAny;
  /** The class reads its own fields as Python wrote them (translated/python-config.ts), not as tfjs rewrites them. */
  pythonConfig: boolean;
  /** 'translated': generated from the layer's Python source (route 1); a hand-written class replaces it. */
  origin: 'hand-written' | 'translated';
}

export interface RegisterLayerOptions {
  pythonConfig?: boolean;
  origin?: 'hand-written' | 'translated';
}

const registrations = new Map<string, CustomLayerRegistration>();

/**
 * Registers the TypeScript implementation of a Keras custom layer.
 *
 * `schema` describes the fields the layer's get_config() adds to Keras's base fields
 * (name, trainable, dtype); a config with fields outside both is refused, since a field the
 * TypeScript layer ignores is a behaviour it does not reproduce.
 *
 * The class is also registered with tfjs's serialization registry, so stock
 * `tf.loadLayersModel` can build it. tfjs converts config keys *and string values* from
 * snake_case to camelCase before the constructor sees them (tfjs-layers convertPythonicToTs).
 */
export function registerLayer<S extends z.ZodRawShape>(
  className: string,
  layerClass: CustomLayerClass,
  schema: z.ZodObject<S> = z.object({}) as z.ZodObject<S>,
  options: RegisterLayerOptions = {},
): CustomLayerRegistration {
  const origin = options.origin ?? 'hand-written';
  const existing = registrations.get(className);
  // A hand-written class always wins over a generated one, whichever registers first.
  if (origin === 'translated' && existing?.origin === 'hand-written') return existing;
  if (layerClass.className !== className) {
    throw new Error(
      `registerLayer('${className}', ...): the class's static className is '${layerClass.className}'; ` +
        `they must be equal, because tfjs finds the class by that name when loading model.json.`,
    );
  }
  if (!(layerClass.prototype instanceof tf.layers.Layer)) throw secondTfjsCopy(className);
  const registration = {
    className,
    layerClass,
    configSchema: kerasBaseLayerConfigSchema.merge(schema).strict(),
    pythonConfig: options.pythonConfig ?? false,
    origin,
  };
  registrations.set(className, registration);
  tf.serialization.registerClass(layerClass);
  return registration;
}

/**
 * tfjs keeps its layer classes in a registry per copy of the package: a class built on another copy
 * of @tensorflow/tfjs than keras-bridge's would be registered where neither the converter nor
 * tf.loadLayersModel (keras-bridge's) looks.
 */
function secondTfjsCopy(className: string): Error {
  return new Error(
    `registerLayer('${className}', ...): the class does not extend keras-bridge's tf.layers.Layer; it was built on ` +
      `a second copy of @tensorflow/tfjs (tfjs keeps one class registry per copy, so keras-bridge would never find it). ` +
      `Import '@tensorflow/tfjs' from the same installation keras-bridge uses: pass the module with --custom-layers ` +
      `(its bare imports of @tensorflow/*, zod and keras-bridge resolve to keras-bridge's copies), or in your own ` +
      `package depend on @tensorflow/tfjs ${tf.version.tfjs} (keras-bridge's version) and run 'npm dedupe' so that ` +
      `one copy is installed.`,
  );
}

/** The registration for a Keras layer entry, by registered name first, then class name. */
export function findCustomLayer(
  className: string,
  registeredName?: string | null,
): CustomLayerRegistration | undefined {
  return (registeredName ? registrations.get(registeredName) : undefined) ?? registrations.get(className);
}

/**
 * The registration a conversion may use: a hand-written one always; one generated from Python
 * source (route 1) only when that conversion loaded it (`translatedClasses`), since the registry
 * outlives a conversion and another bundle's generated class must not stand in for this one's.
 */
export function usableCustomLayer(
  className: string,
  registeredName: string | null | undefined,
  translatedClasses: ReadonlySet<string> | undefined,
): CustomLayerRegistration | undefined {
  const registration = findCustomLayer(className, registeredName);
  if (registration?.origin === 'translated' && !translatedClasses?.has(registration.className)) return undefined;
  return registration;
}

export function registeredCustomLayers(): string[] {
  return [...registrations.keys()].sort();
}
