import type { z } from 'zod';
import { InputError } from '../errors.js';
import { parseUntrustedJson } from './json-limits.js';
import {
  BUNDLE_FORMAT_VERSION,
  bundleManifestSchema,
  type BundleManifest,
  type GoldenTensorRecord,
  type RandomDrawRecord,
  type StoredWeight,
} from './bundle-manifest.js';
import { kerasObjectSchema, type KerasObject } from './keras-object.js';
import { withLayerNames } from './layer-names.js';
import { expectedByteLength, unpackTensor, type PackedTensor } from './packed-tensor.js';
import { describeZodIssue } from './zod-issues.js';

/** A bundle read into memory: manifest, Keras config, and raw weight and golden bytes. */
export interface Bundle {
  dir: string;
  manifest: BundleManifest;
  modelConfig: KerasObject;
  /** weights.bin; empty when loaded with `weights: false` (then read from weightsPath). */
  weightBytes: Uint8Array;
  weightsPath: string;
  goldenBytes: Uint8Array;
  /** graphs.bin: the constants of the custom layers' traced graphs (route 3); empty when there is none. */
  graphBytes: Uint8Array;
}

/** A bundle's manifest alone (to plan a run before loading each bundle in turn). */
export async function readBundleManifest(dir: string): Promise<BundleManifest> {
  const { readFile, stat } = await import('node:fs/promises');
  const path = await import('node:path');
  if (!(await stat(path.resolve(dir)).catch(() => null))?.isDirectory()) {
    throw new InputError(`${dir}: no bundle here (expected a directory written by 'keras-bridge export').`);
  }
  const manifestPath = path.join(path.resolve(dir), 'manifest.json');
  return parseManifest(manifestPath, await readJsonFile(readFile, manifestPath));
}

export interface LoadBundleOptions {
  /**
   * Read goldens.bin (default true). Conversion needs only the model and its weights: a ResNet50
   * bundle's goldens are 504 MB next to 98 MB of weights, and reading them was most of `convert`'s
   * peak memory. Without them, goldenBytes is empty and no golden may be read: the manifest's golden
   * records (goldens.tensors, cases, training, after_training) are neither checked nor kept either,
   * and read as empty (ResNet50's 1,211 records were 281 KB of its 901 KB manifest, and most of
   * the time its schema took).
   */
  goldens?: boolean;
  /**
   * Read weights.bin (default true). Without it, weightBytes is empty and the converter reads each
   * weight from weightsPath when it writes it (bundleSource's lazyWeights); its locations are still
   * checked against the file's size.
   */
  weights?: boolean;
}

/**
 * Reads a bundle directory. Node modules are imported here, not at the top, so that this module's
 * other functions (bundleGolden, describeGolden) also run in a browser page.
 */
export async function loadBundle(dir: string, options: LoadBundleOptions = {}): Promise<Bundle> {
  const { readFile, stat } = await import('node:fs/promises');
  const path = await import('node:path');
  const readJson = (file: string) => readJsonFile(readFile, file);
  const readBinary = (file: string) => readBinaryFile(readFile, file);
  const resolved = path.resolve(dir);
  const info = await stat(resolved).catch(() => null);
  if (!info?.isDirectory()) {
    throw new InputError(`${dir}: no bundle here (expected a directory written by 'keras-bridge export').`);
  }
  const manifestPath = path.join(resolved, 'manifest.json');
  const rawManifest = await readJson(manifestPath);
  const manifest = parseManifest(manifestPath, options.goldens === false ? withoutGoldenRecords(rawManifest) : rawManifest);
  const configPath = path.join(resolved, manifest.model.config_file);
  // A layer whose automatic config has no name (layer-names.ts) takes the one the manifest lists.
  const modelConfig = withLayerNames(
    parseWith(kerasObjectSchema, await readJson(configPath), configPath),
    manifest.layers.map((l) => ({ name: l.name, className: l.class_name })),
  );
  const weightsPath = path.join(resolved, 'weights.bin');
  const goldensPath = path.join(resolved, manifest.goldens.file);
  const weightBytes = options.weights === false ? new Uint8Array() : await readBinary(weightsPath);
  const weightsSize = options.weights === false ? await fileSize(stat, weightsPath) : weightBytes.length;
  checkLocations(weightsPath, weightsSize, manifest.weights, (w) => `weight '${w.path}'`);
  const goldenBytes = options.goldens === false ? new Uint8Array() : await readBinary(goldensPath);
  if (options.goldens !== false) {
    checkLocations(goldensPath, goldenBytes.length, manifest.goldens.tensors, describeGolden);
    checkLocations(goldensPath, goldenBytes.length, trainingGoldens(manifest), (g) => `training-mode ${describeGolden(g)}`);
    checkLocations(goldensPath, goldenBytes.length, randomDraws(manifest), (d) => `random draw ${d.index} of layer '${d.layer_path.join('/')}' (call ${d.call})`);
    checkLocations(goldensPath, goldenBytes.length, trainedWeightGoldens(manifest), describeGolden);
    for (const other of manifest.goldens.cases ?? []) {
      checkLocations(goldensPath, goldenBytes.length, other.tensors, (g) => `${describeGolden(g)} of golden case '${other.name}'`);
    }
  }
  const graphConstants = (manifest.custom_layers ?? []).flatMap((c) => c.graphs ?? []).flatMap((g) => (g.status === 'traced' ? Object.values(g.graphs).flatMap((t) => t.constants) : []));
  const graphsPath = path.join(resolved, 'graphs.bin');
  const graphBytes = graphConstants.length > 0 ? await readBinary(graphsPath) : new Uint8Array();
  checkLocations(graphsPath, graphBytes.length, graphConstants, (c) => `graph constant '${c.name}'`);
  return { dir: resolved, manifest, modelConfig, weightBytes, weightsPath, goldenBytes, graphBytes };
}

export function bundleWeight(bundle: Bundle, weight: StoredWeight): PackedTensor {
  return unpackTensor(bundle.weightBytes, weight);
}

/** A golden tensor, a training-mode or after-training golden, or a random draw: anything located in goldens.bin. */
export function bundleGolden(bundle: Bundle, golden: GoldenTensorRecord | RandomDrawRecord): PackedTensor {
  return unpackTensor(bundle.goldenBytes, golden);
}

/** The training-mode goldens, or none (no training section, or a skipped one). */
export function trainingGoldens(manifest: BundleManifest): GoldenTensorRecord[] {
  const section = manifest.goldens.training;
  return section && 'tensors' in section ? section.tensors : [];
}

/** The random draws the training-mode goldens were computed with. */
export function randomDraws(manifest: BundleManifest): RandomDrawRecord[] {
  const section = manifest.goldens.training;
  return section && 'random_draws' in section ? section.random_draws.draws : [];
}

/** Every after-training golden, all optimizers. */
export function trainedWeightGoldens(manifest: BundleManifest): GoldenTensorRecord[] {
  const section = manifest.goldens.after_training;
  return section && 'runs' in section ? section.runs.flatMap((r) => r.tensors) : [];
}

export function describeGolden(golden: GoldenTensorRecord): string {
  switch (golden.kind) {
    case 'input':
    case 'output':
    case 'grad_input':
      return `${golden.kind} ${golden.index} ('${golden.name}')`;
    case 'cotangent':
      return `cotangent ${golden.index}`;
    case 'layer_output':
    case 'grad_layer_output':
      return `${golden.kind} of '${golden.layer}' (node ${golden.node}, tensor ${golden.index})`;
    case 'grad_weight':
    case 'weight_after_pass':
    case 'trained_weight':
      return `${golden.kind} '${golden.path}'`;
  }
}

/** The manifest without its golden records, for a load that reads no golden (LoadBundleOptions.goldens). */
function withoutGoldenRecords(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const goldens = (raw as { goldens?: unknown }).goldens;
  if (typeof goldens !== 'object' || goldens === null || Array.isArray(goldens)) return raw;
  const { cases: _cases, training: _training, after_training: _afterTraining, ...kept } = goldens as Record<string, unknown>;
  return { ...raw, goldens: { ...kept, tensors: [] } };
}

function parseManifest(file: string, raw: unknown): BundleManifest {
  const version = (raw as { format_version?: unknown } | null)?.format_version;
  if (typeof version === 'number' && version !== BUNDLE_FORMAT_VERSION) {
    throw new InputError(
      `${file}: bundle format_version ${version} is not supported; this keras-bridge reads version ` +
        `${BUNDLE_FORMAT_VERSION}. Re-export the model with the matching keras-bridge.`,
    );
  }
  return parseWith(bundleManifestSchema, raw, file);
}

function parseWith<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, raw: unknown, file: string): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new InputError(`${file}: ${describeZodIssue(result.error.issues[0]!)}`);
}

type ReadFile = typeof import('node:fs/promises').readFile;

async function readJsonFile(readFile: ReadFile, file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`${file}: cannot read (${e.code ?? e.message}). Is this a complete bundle?`);
  });
  return parseUntrustedJson(text, file);
}

async function readBinaryFile(readFile: ReadFile, file: string): Promise<Uint8Array> {
  return readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`${file}: cannot read (${e.code ?? e.message}). Is this a complete bundle?`);
  });
}

async function fileSize(stat: typeof import('node:fs/promises').stat, file: string): Promise<number> {
  const info = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`${file}: cannot read (${e.code ?? e.message}). Is this a complete bundle?`);
  });
  return info.size;
}

function checkLocations<T extends { shape: number[]; dtype: Parameters<typeof expectedByteLength>[1]; offset: number; byte_length: number }>(
  file: string,
  size: number,
  records: readonly T[],
  describe: (record: T) => string,
): void {
  for (const record of records) {
    const expected = expectedByteLength(record.shape, record.dtype);
    if (record.byte_length !== expected) {
      throw new InputError(
        `${file}: ${describe(record)} has byte_length ${record.byte_length}, but shape ` +
          `[${record.shape.join(', ')}] of ${record.dtype} needs ${expected}.`,
      );
    }
    if (record.offset + record.byte_length > size) {
      throw new InputError(
        `${file}: ${describe(record)} ends at byte ${record.offset + record.byte_length}, past the ` +
          `end of the file (${size} bytes). The file is truncated.`,
      );
    }
  }
}
