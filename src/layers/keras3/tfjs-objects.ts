import tf from '#tfjs';
import type { Constraint } from '@tensorflow/tfjs-layers/dist/constraints.js';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers.js';
import type { Regularizer } from '@tensorflow/tfjs-layers/dist/regularizers.js';
import { badField, type NamedLayer } from '../layer-errors.js';

type RegisteredClass = [tf.serialization.SerializableConstructor<tf.serialization.Serializable>, tf.serialization.FromConfigMethod<tf.serialization.Serializable>];

/** tfjs's registered class of that name, own entries only: a name from a file such as 'constructor' finds nothing. */
export function registeredTfjsClass(className: string): RegisteredClass | undefined {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  return Object.hasOwn(map, className) ? (map[className] as RegisteredClass) : undefined;
}

export type { Constraint, Initializer, Regularizer };

/** A serialized tfjs object as tfjs hands it to a layer's constructor (keys camelCased). */
export interface TfjsObjectConfig {
  className: string;
  config: tf.serialization.ConfigDict;
}

/** What our layers accept for an initializer, regularizer or constraint option. */
export type TfjsObjectArg = TfjsObjectConfig | string | null | undefined;

/**
 * Builds the tfjs object (initializer, regularizer, constraint) a layer config names, from tfjs's
 * serialization map, as tfjs-layers' own layers do with their internal getInitializer() & co.
 * A bare name is a class name in lowerCamelCase ('glorotUniform').
 */
export function deserializeTfjsObject<T>(value: TfjsObjectArg, kind: string, layer: NamedLayer, field: string): T | undefined {
  if (value === null || value === undefined) return undefined;
  const { className, config } =
    typeof value === 'string' ? { className: value.charAt(0).toUpperCase() + value.slice(1), config: {} } : value;
  const registered = registeredTfjsClass(className);
  if (!registered) throw badField(layer, field, `unknown ${kind} '${className}': no tfjs class of that name is registered`);
  const [cls, fromConfig] = registered;
  return fromConfig(cls, config ?? {}) as T;
}

/** The inverse of deserializeTfjsObject, for getConfig(). */
export function serializeTfjsObject(value: tf.serialization.Serializable | undefined): TfjsObjectConfig | null {
  return value ? { className: value.getClassName(), config: value.getConfig() } : null;
}

/** A tfjs activation (ours or tfjs's), found by its registered class name. */
export interface TfjsActivation {
  apply(x: tf.Tensor): tf.Tensor;
  getClassName(): string;
}

export function activationNamed(layer: NamedLayer, field: string, name: string | null | undefined): TfjsActivation {
  const className = name ?? 'linear';
  const registered = registeredTfjsClass(className);
  if (!registered) throw badField(layer, field, `unknown activation '${className}': no tfjs activation of that name is registered`);
  const [cls, fromConfig] = registered;
  return fromConfig(cls, {}) as unknown as TfjsActivation;
}

/**
 * A weight's initializer, regularizer and constraint, read from a layer's `<prefix>Initializer`,
 * `<prefix>Regularizer` and `<prefix>Constraint` arguments and written back by config().
 */
export class WeightSettings {
  private constructor(
    private readonly prefix: string,
    readonly initializer: Initializer | undefined,
    readonly regularizer: Regularizer | undefined,
    readonly constraint: Constraint | undefined,
  ) {}

  static read(layer: NamedLayer, args: Record<string, unknown>, prefix: string, defaultInitializer: string): WeightSettings {
    const arg = (suffix: string) => args[`${prefix}${suffix}`] as TfjsObjectArg;
    // Errors name the field as Keras writes it: moving_mean_initializer.
    const field = (suffix: string) => `${prefix.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_${suffix.toLowerCase()}`;
    return new WeightSettings(
      prefix,
      deserializeTfjsObject<Initializer>(arg('Initializer') ?? defaultInitializer, 'initializer', layer, field('Initializer')),
      deserializeTfjsObject<Regularizer>(arg('Regularizer'), 'regularizer', layer, field('Regularizer')),
      deserializeTfjsObject<Constraint>(arg('Constraint'), 'constraint', layer, field('Constraint')),
    );
  }

  config(): Record<string, TfjsObjectConfig | null> {
    return {
      [`${this.prefix}Initializer`]: serializeTfjsObject(this.initializer),
      [`${this.prefix}Regularizer`]: serializeTfjsObject(this.regularizer),
      [`${this.prefix}Constraint`]: serializeTfjsObject(this.constraint),
    };
  }
}
