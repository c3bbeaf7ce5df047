import tf from '#tfjs';
import { BATCH_LINE, type BackendBench } from './bench-results.js';
import { timeModel, type TimeModelOptions } from './time-model.js';

/**
 * The benchmark in a Chromium page (a BrowserSession page task): the converted model loaded over
 * HTTP with stock tf.loadLayersModel and timed as the Node worker times it (time-model.ts). Like
 * the worker, it logs a BATCH line per finished pass, so a page stopped at the cell's time limit
 * keeps the figures it has.
 */
export async function benchInPage(modelUrl: string, options: TimeModelOptions): Promise<BackendBench> {
  const start = performance.now();
  const model = await tf.loadLayersModel(modelUrl);
  const loadMs = performance.now() - start;
  const timings = await timeModel(model, options, undefined, (batch, figures) => console.log(`${BATCH_LINE} ${JSON.stringify({ batch, figures })}`));
  model.dispose();
  return { loadMs, ...timings, peakRssMb: null };
}
