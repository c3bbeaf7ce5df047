import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/paths.js';

/** Every module keras-bridge/runtime imports, transitively, and the bare specifiers among them. */
function importClosure(entry: string): { modules: Set<string>; bare: string[] } {
  const modules = new Set<string>();
  const bare: string[] = [];
  const visit = (file: string) => {
    if (modules.has(file)) return;
    modules.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from ['"]([^'"]+)['"]/gm)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) visit(path.resolve(path.dirname(file), specifier));
      else bare.push(`${path.relative(REPO_ROOT, file)} -> ${specifier}`);
    }
  };
  visit(entry);
  return { modules, bare };
}

describe('keras-bridge/runtime', () => {
  it('imports nothing but tfjs and zod, transitively, so that browsers and bundlers load it (translated layers import it)', () => {
    const { modules, bare } = importClosure(path.join(REPO_ROOT, 'dist', 'src', 'runtime.js'));
    assert.ok(modules.size > 20, `${modules.size} modules`);
    assert.deepEqual(bare.filter((b) => !/ -> (@tensorflow\/tfjs(-core|-layers|-converter)?|zod)$/.test(b)), []);
  });
});
