/** tfjs backends that run in this Node process. */
export const NODE_BACKENDS = ['cpu', 'wasm', 'tensorflow'] as const;

/** tfjs backends run inside headless Chromium (Debian's chromium, driven by playwright-core). */
export const BROWSER_BACKENDS = ['chromium-cpu', 'chromium-wasm', 'chromium-webgl', 'chromium-webgl-f16'] as const;

/** The tfjs backends keras-bridge can run a model on, in the order the CLI tries them. */
export const KNOWN_BACKENDS = [...NODE_BACKENDS, ...BROWSER_BACKENDS] as const;

/**
 * `cpu`: tfjs's plain JavaScript kernels; `wasm`: XNNPACK in WebAssembly; `tensorflow`: libtensorflow
 * via tfjs-node; `chromium-*`: the same tfjs backends, and WebGL, in a real browser page.
 */
export type BackendName = (typeof KNOWN_BACKENDS)[number];
export type NodeBackendName = (typeof NODE_BACKENDS)[number];
export type BrowserBackendName = (typeof BROWSER_BACKENDS)[number];

export function isBackendName(name: string): name is BackendName {
  return (KNOWN_BACKENDS as readonly string[]).includes(name);
}

export function isBrowserBackend(name: string): name is BrowserBackendName {
  return (BROWSER_BACKENDS as readonly string[]).includes(name);
}

/** 'chromium-webgl' → 'webgl': the tfjs backend the page selects. */
export function browserTfjsBackend(name: BrowserBackendName): 'cpu' | 'wasm' | 'webgl' {
  return name === 'chromium-webgl-f16' ? 'webgl' : (name.slice('chromium-'.length) as 'cpu' | 'wasm' | 'webgl');
}

/**
 * tfjs flags the page sets before selecting the backend. 'chromium-webgl-f16' forces float16
 * textures, as on GPUs (most phones) that cannot render to float32 ones.
 */
export function browserTfjsFlags(name: BrowserBackendName): Record<string, boolean> {
  return name === 'chromium-webgl-f16' ? { WEBGL_FORCE_F16_TEXTURES: true } : {};
}
