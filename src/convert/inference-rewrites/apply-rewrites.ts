import { TFJS_SHARD_BYTES, type ConvertedModel } from '../convert-model.js';
import { foldBatchNormalization } from './fold-batch-norm.js';

/**
 * The converted model with its inference rewrites (convert --fold-batch-norm) applied, the report
 * listing each (`inferenceRewrites`) and its weights recounted. The same model when nothing applies.
 */
export function withInferenceRewrites(converted: ConvertedModel): ConvertedModel {
  const folded = foldBatchNormalization(converted);
  const bytes = folded.weightData.length;
  return {
    ...converted,
    topology: folded.topology,
    weightSpecs: folded.weightSpecs,
    weightData: folded.weightData,
    report: {
      ...converted.report,
      inferenceRewrites: folded.rewrites,
      weights: { count: folded.weightSpecs.length, bytes, shards: Math.max(1, Math.ceil(bytes / TFJS_SHARD_BYTES)) },
    },
  };
}
