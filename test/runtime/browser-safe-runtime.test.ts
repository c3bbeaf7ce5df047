import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/paths.js';

/** Where package.json's "imports" send a `#name` outside Node (its "default" condition: browsers, bundlers). */
function packageImportOutsideNode(specifier: string): string | undefined {
  const imports = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { imports?: Record<string, { default?: string }> }).imports;
  const target = imports?.[specifier]?.default;
  return target === undefined ? undefined : path.join(REPO_ROOT, target);
}

/** Every module keras-bridge/runtime imports, transitively (through package.json "imports" as a browser resolves them), and the bare specifiers among them. */
function importClosure(entry: string): { modules: Set<string>; bare: string[] } {
  const modules = new Set<string>();
  const bare: string[] = [];
  const visit = (file: string) => {
    if (modules.has(file)) return;
    modules.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from ['"]([^'"]+)['"]/gm)) {
      const specifier = match[1]!;
      const packageImport = specifier.startsWith('#') ? packageImportOutsideNode(specifier) : undefined;
      if (specifier.startsWith('.')) visit(path.resolve(path.dirname(file), specifier));
      else if (packageImport) visit(packageImport);
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
