import { writeTranslatedLayers } from '../convert/translated-layers.js';
import { lstatSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { TFJS_SHARD_BYTES, completedReport, type ConvertedModel, type PlannedConversion } from '../convert/convert-model.js';
import type { ConversionReport } from '../convert/conversion-report.js';
import { streamWeights } from '../convert/weight-stream.js';
import { ShardWriter } from './shard-writer.js';
import { rewritesMetadata } from '../convert/inference-rewrites/rewrites-metadata.js';
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

/** What writeModelDirectory wrote: the files, and the conversion report (complete once the weights were read). */
export interface WrittenModelDirectory {
  files: string[];
  report: ConversionReport;
}

/**
 * Writes a standard tfjs-layers model directory: model.json (topology + weights manifest),
 * weight shards of at most 4 MB named like tfjs's own converter names them, and the
 * conversion report. A planned conversion's weights are streamed from the model file into the
 * shards one at a time (the report, written last, completed with what their values held); a
 * converted one's are written from memory. Written to a temporary directory and renamed into
 * place; an existing `outDir` is replaced only if it is an earlier conversion (CONVERSION_OUTPUT),
 * and never when it is or contains one of `inputs`.
 */
export async function writeModelDirectory(
  outDir: string,
  conversion: ConvertedModel | PlannedConversion,
  options: { inputs?: readonly string[] } = {},
): Promise<WrittenModelDirectory> {
  const totalBytes = 'weightData' in conversion ? conversion.weightData.length : conversion.weights.byteLength;
  let report = conversion.report;
  let files: string[] = [];
  await writeDirectoryAtomically(outDir, async (tmp) => {
    const shards = new ShardWriter(tmp, totalBytes, TFJS_SHARD_BYTES);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: conversion.topology as unknown as tf.io.ModelJSON['modelTopology'],
      format: 'layers-model',
      generatedBy: 'keras-bridge',
      convertedBy: 'keras-bridge 0.1.0',
      weightsManifest: [{ paths: shards.paths, weights: conversion.weightSpecs }],
    };
    const metadata = rewritesMetadata(conversion.report.inferenceRewrites);
    if (metadata) modelJson.userDefinedMetadata = metadata;
    await writeFile(path.join(tmp, MODEL_JSON), JSON.stringify(modelJson, null, 2) + '\n');
    try {
      if ('weightData' in conversion) {
        await shards.write(conversion.weightData);
      } else {
        const checks = await streamWeights(conversion.weights, (bytes) => shards.write(bytes), {
          refuseNonFinite: conversion.refuseNonFiniteWeights,
          reserve: (length) => shards.reserve(length),
        });
        report = completedReport(conversion.report, checks);
      }
      await shards.finish();
    } finally {
      await shards.abort();
    }
    await writeFile(path.join(tmp, CONVERSION_REPORT_JSON), JSON.stringify(report, null, 2) + '\n');
    const generated = conversion.translated ? await writeTranslatedLayers(tmp, conversion.translated) : [];
    files = [MODEL_JSON, ...shards.paths, CONVERSION_REPORT_JSON, ...generated];
  }, { policy: CONVERSION_OUTPUT, ...options });
  return { files, report };
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
        ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
      };
    },
  };
}
