import tf from '#tfjs';
import { BATCH_LINE, type BackendBench } from './bench-results.js';
import { partnerReference, type PartnerReply, type PartnerRequest } from './partner-reference.js';
import { timeModel, type TimeModelOptions } from './time-model.js';

/** What the page times: the cell's options, and the name of the function the bench exposed for Keras's runs to alternate with (time-model.ts), if any. */
export interface PageBenchOptions extends TimeModelOptions {
  alongsideKeras?: string;
}

/**
 * The benchmark in a Chromium page (a BrowserSession page task): the converted model loaded over
 * HTTP with stock tf.loadLayersModel and timed as the Node worker times it (time-model.ts). Like
 * the worker, it logs a BATCH line per finished pass, so a page stopped at the cell's time limit
 * keeps the figures it has.
 */
export async function benchInPage(modelUrl: string, options: PageBenchOptions): Promise<BackendBench> {
  const start = performance.now();
  const model = await tf.loadLayersModel(modelUrl);
  const loadMs = performance.now() - start;
  const ask = options.alongsideKeras ? ((globalThis as Record<string, unknown>)[options.alongsideKeras] as (request: PartnerRequest) => Promise<PartnerReply>) : undefined;
  const timings = await timeModel(
    model,
    options,
    undefined,
    (batch, figures) => console.log(`${BATCH_LINE} ${JSON.stringify({ batch, figures })}`),
    undefined,
    ask ? (batch, pass) => partnerReference(ask, batch, pass) : undefined,
  );
  model.dispose();
  return { loadMs, ...timings, peakRssMb: null };
}
