import tf from '#tfjs';

/**
 * The active backend's name, or undefined while none has been chosen. Unlike tf.getBackend(), it
 * does not pick and initialize one; and tfjs's engine holds undefined there, despite its type.
 */
export function activeBackendName(): string | undefined {
  return tf.engine().backendName ?? undefined;
}
