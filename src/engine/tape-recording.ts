import tf from '#tfjs';

/** The engine's state this reads (tfjs-core's Engine, not in its public types). */
interface RecordingEngine {
  isTapeOn?: () => boolean;
}

/**
 * Whether a gradient tape records the operations that run now: true inside tf.grad's function (and
 * while a recorded backward pass runs: a second derivative), false outside, undefined where the
 * engine does not say (another tfjs). Single-kernel replacements of composed operations run only
 * where it is false, so that a tape keeps tfjs-core's gradients.
 */
export function tapeRecording(): boolean | undefined {
  return (tf.engine() as unknown as RecordingEngine).isTapeOn?.();
}
