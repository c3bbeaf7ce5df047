import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SCHEMAS_DIR, contractSchemaFiles } from '../../src/python-export/contract-schemas.js';

describe('contract schemas: the committed JSON Schemas are what the zod schemas generate', () => {
  for (const [name, generated] of Object.entries(contractSchemaFiles())) {
    it(`python/keras_bridge/schemas/${name}`, async () => {
      const committed = await readFile(path.join(SCHEMAS_DIR, name), 'utf8').catch(() => '(missing)');
      assert.ok(
        committed === generated,
        `python/keras_bridge/schemas/${name} is not what the zod schema generates: run 'npx tsc -p tsconfig.json && node dist/scripts/generate-contract-schemas.js' and commit it`,
      );
    });
  }
});
