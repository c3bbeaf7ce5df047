/** tfjs-node binding calls counted in tests (the tensorflow backend): which TensorFlow ops and tensors a kernel makes. */
import tf from '#tfjs';

interface BindingBackend {
  binding: Record<string, (...args: unknown[]) => unknown>;
}

/** Calls of the binding's `names` while `f` runs (the native binding is read-only: a counting stand-in replaces it meanwhile). */
export function bindingCalls<T>(names: string[], f: () => T): { result: T; calls: Record<string, number> } {
  const backend = tf.backend() as unknown as BindingBackend;
  const { binding } = backend;
  const calls = Object.fromEntries(names.map((n) => [n, 0]));
  const counted = Object.fromEntries(names.map((n) => [n, { value: (...args: unknown[]) => (calls[n]!++, binding[n]!.apply(binding, args)) }]));
  backend.binding = Object.create(binding, counted) as BindingBackend['binding'];
  try {
    return { result: f(), calls };
  } finally {
    backend.binding = binding;
  }
}
