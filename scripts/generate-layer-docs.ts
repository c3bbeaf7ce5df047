/**
 * Writes docs/layers.md: every Keras 3 layer class with its status in keras-bridge.
 *   node dist/scripts/generate-layer-docs.js [--check]   (--check: exit 1 if the file is stale)
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderLayerDocs } from './layer-docs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = path.join(ROOT, 'docs', 'layers.md');

async function main(): Promise<void> {
  const fresh = await renderLayerDocs(ROOT);
  if (process.argv.includes('--check')) {
    const current = await readFile(DOC, 'utf8').catch(() => '');
    if (current !== fresh) {
      console.error('docs/layers.md is stale: run node dist/scripts/generate-layer-docs.js');
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(DOC, fresh);
  console.log(`wrote ${path.relative(process.cwd(), DOC)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
