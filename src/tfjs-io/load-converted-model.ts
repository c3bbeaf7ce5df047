import tf from '#tfjs';
import '../runtime.js';
import { modelDirectory } from './model-directory.js';

/**
 * Loads a model directory written by `keras-bridge convert` in Node with plain @tensorflow/tfjs:
 * `tf.loadLayersModel('model/model.json')` fetches over HTTP there ("fetch failed" for a local path)
 * and tfjs's file:// handler needs tfjs-node. Reads model.json and its shards from disk
 * (modelDirectory) and registers keras-bridge's runtime classes first; register your custom layers
 * (import your module) before calling it.
 */
export async function loadConvertedModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(modelDirectory(dir));
}
