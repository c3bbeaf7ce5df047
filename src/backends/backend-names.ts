/** The tfjs backends keras-bridge can run a model on, in the order the CLI tries them. */
export const KNOWN_BACKENDS = ['cpu', 'wasm', 'tensorflow'] as const;

/** `cpu`: tfjs's plain JavaScript kernels; `wasm`: XNNPACK in WebAssembly; `tensorflow`: libtensorflow via tfjs-node. */
export type BackendName = (typeof KNOWN_BACKENDS)[number];

export function isBackendName(name: string): name is BackendName {
  return (KNOWN_BACKENDS as readonly string[]).includes(name);
}
