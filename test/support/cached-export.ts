import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { exportWithPython, resolvePython, type PythonExportOptions } from '../../src/python-export/python-exporter.js';
import { REPO_ROOT } from './paths.js';
import { withoutDefaultedEnvironment } from '../../src/backends/environment-defaults.js';

/** What to export: a factory function of a fixtures/models module, and the export's options. */
export interface CachedExport {
  /** The module file, e.g. fixtures/models/real_models.py (its directory goes on the Python path). */
  modelsFile: string;
  /** The factory function in it; also the bundle's directory name. */
  factory: string;
  /** Under .cache/: one folder per models file. */
  cache: string;
  options?: Omit<PythonExportOptions, 'out' | 'factory' | 'paths'>;
}

/**
 * A bundle exported by the Python exporter and cached in .cache/<cache>/<factory>, exported again
 * only when the models file, the exporter's sources or the options change: models too big or too
 * slow to export on every test run are not committed as fixtures.
 */
export async function cachedExport({ modelsFile, factory, cache, options = {} }: CachedExport): Promise<string> {
  const dir = path.join(REPO_ROOT, '.cache', cache, factory);
  const stampFile = `${dir}.stamp`;
  const stamp = sourcesHash(modelsFile, JSON.stringify(options));
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(dir)) return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  const module = path.basename(modelsFile, '.py');
  await exportWithPython({ ...options, out: dir, factory: `${module}:${factory}`, paths: [path.dirname(modelsFile)] });
  await writeFile(stampFile, stamp);
  return dir;
}

/**
 * The .keras files of `factories` of a fixtures/models module, saved by scripts/save_keras_file.py
 * (seeded as the exporter seeds a factory, so each holds its bundle's weights) into
 * .cache/<cache>/<factory>.keras; the missing or stale ones are saved again, in one Python process.
 * Returns each factory's file.
 */
export async function cachedKerasFiles(modelsFile: string, factories: readonly string[], cache: string): Promise<Map<string, string>> {
  const dir = path.join(REPO_ROOT, '.cache', cache);
  const script = path.join(REPO_ROOT, 'scripts', 'save_keras_file.py');
  const stamp = createHash('sha256').update(readFileSync(script)).update(sourcesHash(modelsFile, 'keras file')).digest('hex');
  const files = new Map(factories.map((f) => [f, path.join(dir, `${f}.keras`)]));
  const stale = factories.filter((f) => !(existsSync(files.get(f)!) && existsSync(`${files.get(f)}.stamp`) && readFileSync(`${files.get(f)}.stamp`, 'utf8') === stamp));
  if (stale.length > 0) {
    await mkdir(dir, { recursive: true });
    const module = path.basename(modelsFile, '.py');
    await execa(resolvePython(), [script, '--path', path.dirname(modelsFile), '--out-dir', dir, ...stale.map((f) => `${module}:${f}`)], {
      env: { ...withoutDefaultedEnvironment(), TF_CPP_MIN_LOG_LEVEL: '3' },
      // Its progress lines are diagnostics: to our stderr, so that a caller's stdout (the bench's table) stays its own.
      stdout: 2,
      stderr: 'pipe',
    });
    for (const f of stale) await writeFile(`${files.get(f)}.stamp`, stamp);
  }
  return files;
}

/** The settings that pick TensorFlow's float32 kernels: goldens exported under others differ. */
const KERNEL_ENVIRONMENT = ['TF_ENABLE_ONEDNN_OPTS', 'ONEDNN_MAX_CPU_ISA', 'DNNL_MAX_CPU_ISA'];

function sourcesHash(modelsFile: string, options: string): string {
  const hash = createHash('sha256').update(readFileSync(modelsFile)).update(options);
  for (const name of KERNEL_ENVIRONMENT) hash.update(`\0${name}=${process.env[name] ?? ''}`);
  const exporter = path.join(REPO_ROOT, 'python', 'keras_bridge');
  // The exporter's sources, its sub-packages (translation/) included.
  const sources = (readdirSync(exporter, { recursive: true }) as string[]).filter((f) => f.endsWith('.py')).sort();
  for (const file of sources) hash.update(file).update(readFileSync(path.join(exporter, file)));
  return hash.digest('hex');
}

/**
 * The files a Python script writes into .cache/<cache> (`python SCRIPT .cache/<cache> ...args`),
 * run again only when the script or the files it imports (`sources`) change: for model files
 * too big to commit (keras.applications models saved as .keras).
 */
export async function cachedScriptOutput(script: string, cache: string, sources: readonly string[] = [], args: readonly string[] = []): Promise<string> {
  const dir = path.join(REPO_ROOT, '.cache', cache);
  const stampFile = `${dir}.stamp`;
  const hash = createHash('sha256').update(JSON.stringify(args));
  for (const file of [script, ...sources]) hash.update(readFileSync(file));
  const stamp = hash.digest('hex');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(dir)) return dir;
  await mkdir(dir, { recursive: true });
  // Keras as users run it, whatever keras-bridge set for libtensorflow in this process (environment-defaults.ts).
  await execa(resolvePython(), [script, dir, ...args], { env: { ...withoutDefaultedEnvironment(), TF_CPP_MIN_LOG_LEVEL: '3' }, stdout: 'inherit', stderr: 'pipe' });
  await writeFile(stampFile, stamp);
  return dir;
}
