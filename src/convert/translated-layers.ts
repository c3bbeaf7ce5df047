import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BundleManifest, TranslationRecord } from '../keras/bundle-manifest.js';
import { findCustomLayer } from '../registry/custom-layer-registry.js';
import { findCustomActivationOrigin } from '../registry/custom-activation-registry.js';
import { loadCustomLayerModules } from '../cli/custom-layer-modules.js';

/** Where generated code lies in a converted model directory. */
export const TRANSLATED_SOURCE_DIR = 'custom-layers';
export const TRANSLATED_MODULE = 'custom-layers.js';

/** One class's generated TypeScript (route 1), from the bundle's translation record. */
export interface TranslatedClass {
  className: string;
  typescript: string;
  dependencies: string[];
}

/** The generated code of a bundle: readable TypeScript per class, and one compiled ESM module registering them all. */
export interface TranslatedLayers {
  classes: TranslatedClass[];
  /** Per layer name: Keras's names of the layer's sub-layers (SubLayerNames), for the converted config. */
  subLayerNames: Map<string, Record<string, unknown>>;
  /** custom-layers.js: every class in dependency order, imports merged. */
  javascript: string;
}

/**
 * The bundle's translated classes that a conversion should use: every class translated without a
 * gap and with no hand-written TypeScript class registered (a registered class always wins), plus
 * the translated classes those construct.
 */
export function translationsToUse(manifest: BundleManifest | undefined): TranslatedClass[] {
  const records = new Map<string, TranslationRecord & { status: 'translated' }>();
  for (const custom of manifest?.custom_layers ?? []) {
    if (custom.translation?.status === 'translated') records.set(custom.class_name, custom.translation);
  }
  // A class constructing one that did not translate cannot run: it is left out too (its layers
  // fall to another route), until every class left has its dependencies.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, record] of records) {
      if (record.dependencies.some((d) => !records.has(d))) {
        records.delete(name);
        changed = true;
      }
    }
  }
  const wanted = new Set<string>();
  const want = (name: string) => {
    if (wanted.has(name) || !records.has(name)) return;
    wanted.add(name);
    records.get(name)!.dependencies.forEach(want);
  };
  for (const custom of manifest?.custom_layers ?? []) {
    if (findCustomLayer(custom.class_name, custom.registered_name)?.origin === 'hand-written') continue;
    want(custom.class_name);
  }
  // Activation functions first (layers are built with them), unless a hand-written one is registered.
  const ordered: TranslatedClass[] = (manifest?.custom_activations ?? [])
    .filter((a): a is Extract<typeof a, { status: 'translated' }> => a.status === 'translated')
    .filter((a) => findCustomActivationOrigin(a.name) !== 'hand-written')
    .map((a) => ({ className: a.function, typescript: a.typescript, dependencies: [] }));
  const visit = (name: string, seen: Set<string>) => {
    if (ordered.some((c) => c.className === name) || seen.has(name)) return;
    seen.add(name);
    const record = records.get(name)!;
    record.dependencies.filter((d) => wanted.has(d)).forEach((d) => visit(d, seen));
    ordered.push({ className: name, typescript: record.typescript, dependencies: record.dependencies });
  };
  for (const name of wanted) visit(name, new Set());
  return ordered;
}

/** Why each class was not translated (route 1), as `file:line: why (code)` lines, by class name. */
export function translationGapsOf(manifest: BundleManifest | undefined): Map<string, string[]> {
  const gaps = new Map<string, string[]>();
  for (const custom of manifest?.custom_layers ?? []) {
    if (custom.translation?.status !== 'gaps') continue;
    gaps.set(
      custom.class_name,
      custom.translation.gaps.map((g) => `${g.line !== undefined ? `${g.file ?? '?'}:${g.line}: ` : ''}${g.why}${g.code ? ` (${g.code})` : ''}`),
    );
  }
  return gaps;
}

function subLayerNamesOf(manifest: BundleManifest | undefined): Map<string, Record<string, unknown>> {
  const names = new Map<string, Record<string, unknown>>();
  for (const custom of manifest?.custom_layers ?? []) {
    if (custom.translation?.status !== 'translated') continue;
    for (const [layer, subLayers] of Object.entries(custom.translation.sub_layers ?? {})) names.set(layer, subLayers);
  }
  return names;
}

/** Compiles the classes into one ES module (custom-layers.js) with TypeScript's transpiler. */
export async function compileTranslatedLayers(classes: TranslatedClass[]): Promise<Omit<TranslatedLayers, 'subLayerNames'>> {
  // Imported here, not at the top: the compiler takes a second to load, and only a bundle with
  // translated classes needs it (every other command starts without it).
  const { default: ts } = await import('typescript');
  const imports = new MergedImports();
  const bodies: string[] = [];
  for (const c of classes) {
    const { outputText, diagnostics } = ts.transpileModule(c.typescript, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, useDefineForClassFields: true },
      reportDiagnostics: true,
      fileName: `${c.className}.ts`,
    });
    const errors = (diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length) throw new Error(`generated ${c.className}.ts does not compile: ${ts.flattenDiagnosticMessageText(errors[0]!.messageText, '\n')}`);
    const lines = outputText.split('\n');
    for (const line of lines.filter((l) => l.startsWith('import '))) {
      // Sibling imports (./Other.js) become references within the one module.
      if (!/from '\.\//.test(line)) imports.add(line, c.className);
    }
    bodies.push(`// ${c.className} (custom-layers/${c.className}.ts)\n${lines.filter((l) => !l.startsWith('import ')).join('\n').trim()}\n`);
  }
  const header = '// Generated by keras-bridge: custom layers translated from their Python source (route 1). Import it before tf.loadLayersModel.';
  return { classes, javascript: [header, ...imports.lines(), '', ...bodies].join('\n') };
}

/** The modules' imports as one set: named imports merged per module (the transpiler drops unused ones, so lines differ). */
class MergedImports {
  private readonly named = new Map<string, Set<string>>();
  private readonly whole = new Set<string>();

  add(line: string, className: string): void {
    const match = /^import \{([^}]*)\} from '([^']+)';$/.exec(line.trim());
    if (!match) {
      if (!/^import \* as \w+ from '[^']+';$/.test(line.trim())) throw new Error(`generated ${className}.ts: unexpected import '${line}'`);
      this.whole.add(line.trim());
      return;
    }
    const names = this.named.get(match[2]!) ?? new Set<string>();
    for (const name of match[1]!.split(',').map((n) => n.trim()).filter(Boolean)) names.add(name);
    this.named.set(match[2]!, names);
  }

  lines(): string[] {
    return [...this.whole, ...[...this.named].map(([from, names]) => `import { ${[...names].sort().join(', ')} } from '${from}';`)];
  }
}

/** Writes custom-layers/<Class>.ts and custom-layers.js into `dir` (a conversion's staging directory). */
export async function writeTranslatedLayers(dir: string, translated: TranslatedLayers): Promise<string[]> {
  if (translated.classes.length === 0) return [];
  await mkdir(path.join(dir, TRANSLATED_SOURCE_DIR), { recursive: true });
  const files = translated.classes.map((c) => `${TRANSLATED_SOURCE_DIR}/${c.className}.ts`);
  await Promise.all(translated.classes.map((c, i) => writeFile(path.join(dir, files[i]!), c.typescript)));
  await writeFile(path.join(dir, TRANSLATED_MODULE), translated.javascript);
  return [...files, TRANSLATED_MODULE];
}

/**
 * custom-layers.js written where Node can import it (a directory named by its content, under the
 * system's temporary directory), for this process to register the classes before converting.
 */
export async function stageTranslatedModule(translated: TranslatedLayers): Promise<string> {
  const hash = createHash('sha256').update(translated.javascript).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), `keras-bridge-translated-${hash}`);
  const file = path.join(dir, TRANSLATED_MODULE);
  const staging = `${dir}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await writeFile(path.join(staging, TRANSLATED_MODULE), translated.javascript);
  await rename(staging, dir).catch(async () => rm(staging, { recursive: true, force: true })); // another process staged it first
  return file;
}

/**
 * Compiles and imports the bundle's translated classes, so that they are registered before the
 * model is converted; undefined when the bundle has none to use.
 */
export async function loadTranslatedLayers(manifest: BundleManifest | undefined): Promise<TranslatedLayers | undefined> {
  const classes = translationsToUse(manifest);
  if (classes.length === 0) return undefined;
  const translated = { ...(await compileTranslatedLayers(classes)), subLayerNames: subLayerNamesOf(manifest) };
  await loadCustomLayerModules([await stageTranslatedModule(translated)]);
  return translated;
}
