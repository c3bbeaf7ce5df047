import type * as tf from '@tensorflow/tfjs';
import type { InferenceRewrite } from './fold-batch-norm.js';

/** Where a rewritten model.json records its rewrites (tfjs keeps userDefinedMetadata on load: model.getUserDefinedMetadata()). */
const METADATA_KEY = 'kerasBridge';

/** model.json's userDefinedMetadata for a model with these rewrites; undefined when there are none. */
export function rewritesMetadata(rewrites: readonly InferenceRewrite[] | undefined): { [key: string]: {} } | undefined {
  return rewrites && rewrites.length > 0 ? { [METADATA_KEY]: { inferenceRewrites: rewrites.map((r) => ({ ...r })) } } : undefined;
}

/** The inference rewrites a loaded model was converted with (none for a model converted without them). */
export function inferenceRewritesOf(model: tf.LayersModel): InferenceRewrite[] {
  const metadata = model.getUserDefinedMetadata();
  return metadata ? inferenceRewritesIn(metadata) : [];
}

/** The inference rewrites listed in model.json's userDefinedMetadata. */
export function inferenceRewritesIn(metadata: object): InferenceRewrite[] {
  const listed = (metadata as Record<string, { inferenceRewrites?: unknown } | undefined>)[METADATA_KEY]?.inferenceRewrites;
  if (!Array.isArray(listed)) return [];
  return listed.filter(
    (r): r is InferenceRewrite =>
      typeof r === 'object' && r !== null && (r.kind === 'fold-batch-norm' || r.kind === 'fuse-activation') && typeof r.removed === 'string' && typeof r.into === 'string',
  );
}
