import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './command.js';
import type { FlagSpec } from './command.js';

export const customLayersFlag: FlagSpec = {
  type: 'string',
  multiple: true,
  value: 'MODULE',
  description:
    "JavaScript module(s) that call registerLayer() for your custom layers (a file path, or a package specifier such as 'keras-bridge/layers/seed')",
};

/** Imports each module so that its registerLayer() calls run. */
export async function loadCustomLayerModules(specifiers: string[]): Promise<void> {
  for (const specifier of specifiers) {
    const isPath = specifier.startsWith('.') || specifier.startsWith('/') || /\.[cm]?js$/.test(specifier);
    const target = isPath ? pathToFileURL(path.resolve(specifier)).href : specifier;
    try {
      await import(target);
    } catch (e) {
      throw new UsageError(`--custom-layers ${specifier}: cannot import (${(e as Error).message}).`);
    }
  }
}
