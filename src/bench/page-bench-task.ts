import * as tf from '@tensorflow/tfjs';
import type { BackendBench } from './bench-results.js';
import { timeModel, type TimeModelOptions } from './time-model.js';

/**
 * The benchmark in a Chromium page (a BrowserSession page task): the converted model loaded over
 * HTTP with stock tf.loadLayersModel and timed as the Node worker times it (time-model.ts).
 */
export async function benchInPage(modelUrl: string, options: TimeModelOptions): Promise<BackendBench> {
  const start = performance.now();
  const model = await tf.loadLayersModel(modelUrl);
  const loadMs = performance.now() - start;
  const timings = await timeModel(model, options);
  model.dispose();
  return { loadMs, ...timings, peakRssMb: null };
}
