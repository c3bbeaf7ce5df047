import { fileURLToPath } from 'node:url';
import { bundleManifestSchema } from '../keras/bundle-manifest.js';
import { zodToJsonSchema } from '../keras/zod-json-schema.js';
import { exportOptionsSchema } from './export-options.js';

/**
 * The JSON Schemas Python checks against (python/keras_bridge/contract.py), generated from the zod
 * schemas by `node dist/scripts/generate-contract-schemas.js` and committed in the Python package;
 * test/python-export/contract-schemas.test.ts fails when a committed file is not what this generates.
 */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../../python/keras_bridge/schemas/', import.meta.url));

export function contractSchemaFiles(): Record<string, string> {
  const schemas = {
    'bundle-manifest.schema.json': zodToJsonSchema(bundleManifestSchema, {
      id: 'https://keras-bridge/schemas/bundle-manifest.schema.json',
      title: 'keras-bridge bundle manifest.json',
      description:
        'Generated from bundleManifestSchema (src/keras/bundle-manifest.ts) by scripts/generate-contract-schemas.ts; do not edit. What the Python writer may write (docs/bundle-format.md).',
    }),
    'export-options.schema.json': zodToJsonSchema(exportOptionsSchema, {
      id: 'https://keras-bridge/schemas/export-options.schema.json',
      title: 'keras-bridge export options',
      description:
        'Generated from exportOptionsSchema (src/python-export/export-options.ts) by scripts/generate-contract-schemas.ts; do not edit. The document `python -m keras_bridge export --options-json` reads.',
    }),
  };
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, JSON.stringify(schema, null, 2) + '\n']));
}
