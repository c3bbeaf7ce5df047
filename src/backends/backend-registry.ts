import type { BackendDescriptor } from './backend-descriptor.js';

const descriptors = new Map<string, BackendDescriptor>();

/**
 * Adds a backend (one file under src/backends/descriptors, or a user's own); the registration
 * order is the order the CLI lists and tries them. Returns the descriptor, so a file can export it.
 */
export function registerBackendDescriptor<D extends BackendDescriptor>(descriptor: D): D {
  if (descriptors.has(descriptor.name)) throw new Error(`backend '${descriptor.name}' is registered twice`);
  descriptors.set(descriptor.name, descriptor);
  return descriptor;
}

/** The descriptor registered as `name`, or undefined. */
export function backendDescriptor(name: string): BackendDescriptor | undefined {
  return descriptors.get(name);
}

/** Every registered backend, in registration order. */
export function registeredBackends(): BackendDescriptor[] {
  return [...descriptors.values()];
}
