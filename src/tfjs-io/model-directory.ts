import { writeTranslatedLayers } from '../convert/translated-layers.js';
import { lstatSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { TFJS_SHARD_BYTES, type ConvertedModel } from '../convert/convert-model.js';
import { InputError } from '../errors.js';
import { writeDirectoryAtomically } from './atomic-directory.js';
import type { OutputPolicy } from './output-directory.js';

export const MODEL_JSON = 'model.json';
export const CONVERSION_REPORT_JSON = 'conversion-report.json';
/** Past this size a model.json is not read to see whether keras-bridge wrote it. */
const MAX_MODEL_JSON_PROBE_BYTES = 256 * 1024 * 1024;

/**
 * convert replaces only its own earlier output: a directory with our conversion report, or a
 * model.json that says keras-bridge generated it (output-directory.ts has the other rules).
 */
export const CONVERSION_OUTPUT: OutputPolicy = {
  name: 'OUT_DIR',
  ownOutput: `a keras-bridge conversion (no ${CONVERSION_REPORT_JSON}, no ${MODEL_JSON} with "generatedBy": "keras-bridge")`,
  advice: "Choose a new or empty directory for OUT_DIR (convert replaces only a directory an earlier 'keras-bridge convert' wrote).",
  replaceable: isConversionDirectory,
};

/** Whether `dir` holds a model directory written by writeModelDirectory. */
export function isConversionDirectory(dir: string): boolean {
  const report = lstatSync(path.join(dir, CONVERSION_REPORT_JSON), { throwIfNoEntry: false });
  if (report?.isFile()) return true;
  const modelJson = path.join(dir, MODEL_JSON);
  const stats = lstatSync(modelJson, { throwIfNoEntry: false });
  if (!stats?.isFile() || stats.size > MAX_MODEL_JSON_PROBE_BYTES) return false;
  try {
    return (JSON.parse(readFileSync(modelJson, 'utf8')) as { generatedBy?: unknown }).generatedBy === 'keras-bridge';
  } catch {
    return false;
  }
}

/**
 * Writes a standard tfjs-layers model directory: model.json (topology + weights manifest),
 * weight shards of at most 4 MB named like tfjs's own converter names them, and the
 * conversion report. Written to a temporary directory and renamed into place; an existing
 * `outDir` is replaced only if it is an earlier conversion (CONVERSION_OUTPUT), and never when it
 * is or contains one of `inputs`.
 */
export async function writeModelDirectory(outDir: string, converted: ConvertedModel, options: { inputs?: readonly string[] } = {}): Promise<string[]> {
  const shards = splitIntoShards(converted.weightData, TFJS_SHARD_BYTES);
  const paths = shards.map((_, i) => `group1-shard${i + 1}of${shards.length}.bin`);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: converted.topology as unknown as tf.io.ModelJSON['modelTopology'],
    format: 'layers-model',
    generatedBy: 'keras-bridge',
    convertedBy: 'keras-bridge 0.1.0',
    weightsManifest: [{ paths, weights: converted.weightSpecs }],
  };
  let generated: string[] = [];
  await writeDirectoryAtomically(outDir, async (tmp) => {
    await writeFile(path.join(tmp, MODEL_JSON), JSON.stringify(modelJson, null, 2) + '\n');
    await Promise.all(shards.map((shard, i) => writeFile(path.join(tmp, paths[i]!), shard)));
    await writeFile(path.join(tmp, CONVERSION_REPORT_JSON), JSON.stringify(converted.report, null, 2) + '\n');
    generated = converted.translated ? await writeTranslatedLayers(tmp, converted.translated) : [];
  }, { policy: CONVERSION_OUTPUT, ...options });
  return [MODEL_JSON, ...paths, CONVERSION_REPORT_JSON, ...generated];
}

function splitIntoShards(data: Uint8Array, shardBytes: number): Uint8Array[] {
  if (data.length === 0) return [data];
  const shards: Uint8Array[] = [];
  for (let offset = 0; offset < data.length; offset += shardBytes) {
    shards.push(data.subarray(offset, offset + shardBytes));
  }
  return shards;
}

/**
 * An IOHandler that reads a model directory from disk with plain @tensorflow/tfjs in Node
 * (tfjs's own file:// handler needs tfjs-node). Use: tf.loadLayersModel(modelDirectory(dir)).
 */
export function modelDirectory(dir: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = path.join(dir, MODEL_JSON);
      const text = await readFile(jsonPath, 'utf8').catch(() => {
        throw new InputError(`${jsonPath}: cannot read; expected a directory written by 'keras-bridge convert'.`);
      });
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch (e) {
        throw new InputError(`${jsonPath}: not valid JSON (${(e as Error).message}).`);
      }
      const groups = json.weightsManifest ?? [];
      const buffers = await Promise.all(
        groups.flatMap((g) => g.paths).map((p) =>
          readFile(path.join(dir, p)).catch((e: NodeJS.ErrnoException) => {
            throw new InputError(`${path.join(dir, p)}: cannot read weight shard (${e.code ?? e.message}), listed in ${jsonPath}.`);
          }),
        ),
      );
      const data = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: groups.flatMap((g) => g.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      };
    },
  };
}
