import type { BrowserBackendDescriptor, NodeBackendDescriptor } from './backend-descriptor.js';
import { backendDescriptor, registeredBackends } from './backend-registry.js';
import './descriptors/index.js';

/**
 * A --backend name: one registered in src/backends/backend-registry.ts (the built-in ones are
 * src/backends/descriptors/*). A string checked at run time, since backends register at run time.
 */
export type BackendName = string;
export type NodeBackendName = string;
export type BrowserBackendName = string;

/** The built-in backends keras-bridge can run a model on, in the order the CLI tries them. */
export const KNOWN_BACKENDS: readonly BackendName[] = registeredBackends().map((d) => d.name);

/** Built-in tfjs backends that run in this Node process. */
export const NODE_BACKENDS: readonly NodeBackendName[] = registeredBackends()
  .filter((d) => d.kind === 'node')
  .map((d) => d.name);

/** Built-in tfjs backends run inside headless Chromium (Debian's chromium, driven by playwright-core). */
export const BROWSER_BACKENDS: readonly BrowserBackendName[] = registeredBackends()
  .filter((d) => d.kind === 'browser')
  .map((d) => d.name);

export function isBackendName(name: string): name is BackendName {
  return backendDescriptor(name) !== undefined;
}

export function isBrowserBackend(name: string): name is BrowserBackendName {
  return backendDescriptor(name)?.kind === 'browser';
}

/** The registered Node backend `name`, or undefined. */
export function nodeBackend(name: string): NodeBackendDescriptor | undefined {
  const descriptor = backendDescriptor(name);
  return descriptor?.kind === 'node' ? descriptor : undefined;
}

/** The registered browser backend `name`, or undefined. */
export function browserBackend(name: string): BrowserBackendDescriptor | undefined {
  const descriptor = backendDescriptor(name);
  return descriptor?.kind === 'browser' ? descriptor : undefined;
}

/** 'chromium-webgl' → 'webgl': the tfjs backend the page selects. */
export function browserTfjsBackend(name: BrowserBackendName): string {
  return browserBackend(name)?.tfjsBackend ?? name;
}

/** `name`: its one-line description, one backend a line, for --help and errors. */
export function describeBackends(indent = '  '): string[] {
  const backends = registeredBackends();
  const width = Math.max(...backends.map((d) => d.name.length));
  return backends.map((d) => `${indent}${d.name.padEnd(width)}  ${d.description}`);
}
