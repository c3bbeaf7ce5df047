import { stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { loadBundle } from '../keras/bundle.js';
import { writeDirectoryAtomically } from '../tfjs-io/atomic-directory.js';
import type { OutputPolicy } from '../tfjs-io/output-directory.js';

/** Scaffolded code is a person's to edit: scaffold never replaces a directory, not even its own output. */
const SCAFFOLD_OUTPUT: OutputPolicy = {
  name: '--out',
  ownOutput: 'replaceable (keras-bridge scaffold never overwrites code a person may have edited)',
  advice: 'Choose another --out, or remove it.',
  replaceable: () => false,
};

/** One class's scaffolded TypeScript: complete, or a draft with each untranslated statement marked. */
export interface ScaffoldedClass {
  className: string;
  file: string;
  complete: boolean;
  /** For a draft: where translation stopped, `file:line: why`. */
  todo: string[];
}

/**
 * The TypeScript of every custom class of a bundle, for a person to own: route 1's translation
 * (registered as a hand-written class, so that it wins over what convert would generate), or, for
 * a class it could not fully translate, the draft with a TODO and a throw at each gap. Plus an
 * index module registering them all and a parity test against the bundle (node:test).
 */
export async function scaffoldBundle(bundleDir: string, outDir: string): Promise<ScaffoldedClass[]> {
  if (await stat(outDir).catch(() => null)) {
    throw new InputError(`${outDir}: already exists; keras-bridge scaffold never overwrites code a person may have edited (choose another --out, or remove it).`);
  }
  const bundle = await loadBundle(bundleDir);
  const classes: Array<ScaffoldedClass & { text: string }> = [];
  for (const custom of bundle.manifest.custom_layers) {
    const record = custom.translation;
    const text = record?.status === 'translated' ? record.typescript : record?.status === 'gaps' ? record.draft : undefined;
    if (!record || !text) continue;
    const todo = record.status === 'gaps' ? record.gaps.map((g) => `${g.line !== undefined ? `${g.file ?? '?'}:${g.line}: ` : ''}${g.why}`) : [];
    classes.push({ className: custom.class_name, file: `custom-layers/${custom.class_name}.ts`, complete: record.status === 'translated', todo, text: asOwned(text) });
  }
  if (classes.length === 0) {
    throw new InputError(`${bundleDir}: the bundle records no translation of a custom class (no custom layers, or exported before keras-bridge translated them: export it again).`);
  }
  const relativeBundle = path.relative(outDir, path.resolve(bundleDir)).split(path.sep).join('/');
  await writeDirectoryAtomically(outDir, async (tmp) => {
    await mkdir(path.join(tmp, 'custom-layers'));
    for (const c of classes) await writeFile(path.join(tmp, c.file), c.text);
    await writeFile(path.join(tmp, 'custom-layers', 'index.ts'), indexModule(classes));
    await writeFile(path.join(tmp, 'parity.test.ts'), parityTest(relativeBundle, path.basename(path.resolve(bundleDir))));
  }, { policy: SCAFFOLD_OUTPUT, inputs: [bundleDir] });
  return classes.map(({ text: _text, ...c }) => c);
}

/** A scaffolded class is the person's: registered as hand-written, it wins over a generated one. */
function asOwned(text: string): string {
  return text
    .replace(", { pythonConfig: true, origin: 'translated' });", ', { pythonConfig: true });')
    .replace(
      ' * Edit freely: a TypeScript class registered under this name always wins over a generated one.',
      ' * Written by keras-bridge scaffold; yours to edit. Registered as hand-written, it wins over what convert generates.',
    );
}

function indexModule(classes: ScaffoldedClass[]): string {
  return [
    '// Registers every custom layer of the model: import it (and keras-bridge/runtime) before tf.loadLayersModel,',
    '// or pass its compiled form to keras-bridge convert/parity with --custom-layers.',
    ...classes.map((c) => `export { ${c.className} } from './${c.className}.js';`),
    '',
  ].join('\n');
}

function parityTest(bundle: string, name: string): string {
  return `// Parity of your custom layers against the Keras goldens in the bundle (written by keras-bridge scaffold).
// Compile with your TypeScript setup, then run with: node --test
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectParity } from 'keras-bridge/testing';
import './custom-layers/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

test('${name}: outputs, layer outputs and gradients match Keras on cpu and wasm', { timeout: 600_000 }, async () => {
  await expectParity(path.resolve(here, '${bundle}'), { backends: ['cpu', 'wasm'] });
});
`;
}

