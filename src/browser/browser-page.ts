import path from 'node:path';
import { BROWSER_BACKENDS, browserBackend } from '../backends/backend-names.js';
import { PACKAGE_ROOT } from '../package-root.js';

/**
 * URL mounts for a page that runs keras-bridge's compiled ESM (dist/) in the browser, with the
 * bare imports of our modules resolved by an import map to tfjs's ES bundle (one module instance
 * for core, layers and the wasm backend) and to zod's ESM build.
 */
export function browserMounts(extra: Record<string, string> = {}): Record<string, string> {
  return {
    '/node_modules/': path.join(PACKAGE_ROOT, 'node_modules'),
    '/dist/': path.join(PACKAGE_ROOT, 'dist'),
    ...extra,
  };
}

const NODE_BUILTIN_STUB_URL = '/node-builtin-stub.js';

const IMPORT_MAP = {
  imports: {
    '@tensorflow/tfjs': '/node_modules/@tensorflow/tfjs/dist/tf.fesm.js',
    '@tensorflow/tfjs-core': '/node_modules/@tensorflow/tfjs/dist/tf.fesm.js',
    // Our modules' own name for tfjs (package.json "imports"): its ES module outside Node.
    '#tfjs': '/dist/src/tfjs-module.js',
    // Each browser backend's own modules (the wasm and webgpu backends' ES bundles).
    ...Object.assign({}, ...BROWSER_BACKENDS.map((name) => browserBackend(name)!.importMap)),
    zod: '/node_modules/zod/index.js',
    // A --custom-layers module imports registerLayer, registerActivation, random, ... from
    // 'keras-bridge'; in a page that is the browser-safe runtime, which exports them all.
    'keras-bridge': '/dist/src/runtime.js',
    'keras-bridge/runtime': '/dist/src/runtime.js',
    'keras-bridge/layers/seed': '/dist/src/layers/seed/index.js',
    // tfjs-backend-wasm's ES bundle imports Node builtins for its Node code path, unused in a page.
    ...Object.fromEntries(['fs', 'path', 'perf_hooks', 'os', 'worker_threads'].map((m) => [m, NODE_BUILTIN_STUB_URL])),
  },
};

/** Pages every browser session serves: the blank page and the Node builtin stub. */
export function browserPages(): Record<string, string> {
  return { '/': blankPage(), [NODE_BUILTIN_STUB_URL]: 'export default {};\n' };
}

/** An empty page with the import map; scripts are then run in it with page.evaluate(). */
export function blankPage(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>keras-bridge</title>
<script type="importmap">${JSON.stringify(IMPORT_MAP)}</script></head><body></body></html>`;
}
