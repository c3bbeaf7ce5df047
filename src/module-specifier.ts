import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PACKAGE_ROOT_URL } from './package-root.js';

/**
 * How a --custom-layers module is named: a file path ('./layers.js', '/abs/x.mjs', 'x.js') or a
 * package specifier ('keras-bridge/layers/seed', '@me/layers'), resolved from keras-bridge's root.
 */
export function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('.') || specifier.startsWith('/') || /\.[cm]?js$/.test(specifier);
}

/** The URL Node imports a --custom-layers module from. */
export function moduleUrl(specifier: string): string {
  return isPathSpecifier(specifier) ? pathToFileURL(path.resolve(specifier)).href : import.meta.resolve(specifier, new URL('package.json', PACKAGE_ROOT_URL).href);
}

/** The file a --custom-layers module is read from (a browser page is served it). */
export function moduleFile(specifier: string): string {
  return isPathSpecifier(specifier) ? path.resolve(specifier) : fileURLToPath(moduleUrl(specifier));
}
