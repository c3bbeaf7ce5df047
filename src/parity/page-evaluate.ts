import tf from '#tfjs';
import type { Bundle } from '../keras/bundle.js';
import type { BundleManifest } from '../keras/bundle-manifest.js';
import { manifestForCase } from '../keras/golden-cases.js';
import type { KerasObject } from '../keras/keras-object.js';
import { evaluateBundle } from './evaluate-bundle.js';
import { encodeEvaluation, type Encoded } from './tensor-codec.js';

export interface PageEvaluateArgs {
  /** Where the page's server serves the bundle (ends with '/'). */
  bundleUrl: string;
  /** Which golden case (size) of the bundle (golden-cases.ts). */
  caseIndex: number;
}

/**
 * Parity's evaluation in a Chromium page (a BrowserSession page task): the bundle fetched over
 * HTTP, the model loaded with stock tf.loadLayersModel, and keras-bridge's one evaluation entry
 * point run as in Node; the result goes back to Node through the tensor codec.
 */
export async function evaluateInPage(modelUrl: string, args: PageEvaluateArgs): Promise<Encoded> {
  const fetchJson = async (url: string): Promise<unknown> => (await fetch(url)).json();
  // The manifest Node validated when it loaded the bundle (check-parity), served as it was read.
  const manifest = manifestForCase((await fetchJson(`${args.bundleUrl}manifest.json`)) as BundleManifest, args.caseIndex);
  const modelConfig = (await fetchJson(`${args.bundleUrl}${manifest.model.config_file}`)) as KerasObject;
  const goldenBytes = new Uint8Array(await (await fetch(`${args.bundleUrl}${manifest.goldens.file}`)).arrayBuffer());
  // The page loads weights from the converted model; evaluation reads only goldens from the bundle.
  const bundle: Bundle = { dir: args.bundleUrl, manifest, modelConfig, weightBytes: new Uint8Array(0), weightsPath: `${args.bundleUrl}weights.bin`, goldenBytes, graphBytes: new Uint8Array(0) };
  const evaluation = await evaluateBundle(() => tf.loadLayersModel(modelUrl), bundle);
  return encodeEvaluation(evaluation);
}
