import { readFile } from 'node:fs/promises';
import path from 'node:path';
// tfjs's own classes must be snapshotted before keras-bridge registers its layers.
import { formatLayerSupportMarkdown, layerSupportTable, tfjsRegisteredClassNames } from '../src/convert/layer-support.js';

const TFJS_BUILTINS = tfjsRegisteredClassNames();

/** docs/layers.md's content, from the translator registry and fixtures/keras-layers.json. */
export async function renderLayerDocs(root: string): Promise<string> {
  await import('../src/convert/translate-layer.js');
  const listing = JSON.parse(await readFile(path.join(root, 'fixtures', 'keras-layers.json'), 'utf8')) as {
    keras_version: string;
    layers: Record<string, string>;
  };
  return formatLayerSupportMarkdown(layerSupportTable(Object.keys(listing.layers), TFJS_BUILTINS), listing.keras_version);
}
