import { register } from 'node:module';
import { isPathSpecifier, moduleUrl } from '../module-specifier.js';
import { PACKAGE_ROOT_URL } from '../package-root.js';
import { UsageError } from './command.js';
import type { FlagSpec } from './command.js';
import type { SharedPackagesData } from './shared-package-hooks.js';

export const customLayersFlag: FlagSpec = {
  type: 'string',
  multiple: true,
  value: 'MODULE',
  description:
    "JavaScript module(s) that call registerLayer() for your custom layers (a file path, or a package specifier such as 'keras-bridge/layers/seed'); " +
    'their bare imports of @tensorflow/*, zod and keras-bridge resolve to keras-bridge\'s own copies',
};

/** What a custom-layer module shares with keras-bridge: one tfjs (one class registry), one registry of ours. */
const SHARED_PACKAGES = ['@tensorflow/', 'zod', 'keras-bridge'];

let sharing = false;

/** Makes modules outside keras-bridge's tree import its tfjs, zod and keras-bridge (shared-package-hooks.ts). */
function sharePackagesWithCustomModules(): void {
  if (sharing) return;
  sharing = true;
  const data: SharedPackagesData = { packages: SHARED_PACKAGES, parentURL: new URL('package.json', PACKAGE_ROOT_URL).href, rootURL: PACKAGE_ROOT_URL.href };
  register(new URL('./shared-package-hooks.js', import.meta.url), { data });
}

/** Imports each module so that its registerLayer() calls run. */
export async function loadCustomLayerModules(specifiers: string[]): Promise<void> {
  if (specifiers.length > 0) sharePackagesWithCustomModules();
  for (const specifier of specifiers) {
    try {
      await import(isPathSpecifier(specifier) ? moduleUrl(specifier) : specifier);
    } catch (e) {
      throw new UsageError(`--custom-layers ${specifier}: cannot import (${(e as Error).message}).`);
    }
  }
}
