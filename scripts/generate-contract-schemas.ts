/** Writes the JSON Schemas generated from the zod schemas into python/keras_bridge/schemas/ (src/python-export/contract-schemas.ts). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SCHEMAS_DIR, contractSchemaFiles } from '../src/python-export/contract-schemas.js';

for (const [name, text] of Object.entries(contractSchemaFiles())) {
  writeFileSync(path.join(SCHEMAS_DIR, name), text);
  process.stdout.write(`wrote ${path.join(SCHEMAS_DIR, name)} (${text.length} bytes)\n`);
}
