/**
 * Environment variables keras-bridge sets for libtensorflow in its own process when the user has
 * not (src/backends/native-tensorflow.ts), remembered so that the processes it starts for the user,
 * the Python exporter's Keras above all, get the user's environment as it was.
 */
const defaulted = new Set<string>();

/** Sets `name` to `value` unless it is set. */
export function defaultEnvironment(name: string, value: string): void {
  if (process.env[name] !== undefined) return;
  process.env[name] = value;
  defaulted.add(name);
}

/** For a child's env (execa, child_process): each variable keras-bridge defaulted, as unset. */
export function withoutDefaultedEnvironment(): Record<string, undefined> {
  return Object.fromEntries([...defaulted].map((name) => [name, undefined]));
}
