import { fileURLToPath } from 'node:url';

/** keras-bridge's package root (dist/src/package-root.js is three levels down): node_modules/, dist/, python/ and fixtures/ are found from it. */
export const PACKAGE_ROOT_URL = new URL('../../', import.meta.url);

/** PACKAGE_ROOT_URL as a path, with a trailing separator. */
export const PACKAGE_ROOT = fileURLToPath(PACKAGE_ROOT_URL);
