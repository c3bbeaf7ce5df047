import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { isBrowserBackend, useBackend, type BackendName, type NodeBackendName } from '../backends/index.js';
import { BrowserSession } from '../browser/browser-session.js';
import { TRANSLATED_MODULE } from '../convert/translated-layers.js';
import type { RouteName } from '../convert/route-inputs.js';
import { loadCustomLayerModules } from '../cli/custom-layer-modules.js';
import { convertBundle } from '../convert/convert-bundle.js';
import { toModelArtifacts, type ConvertedModel } from '../convert/convert-model.js';
import { loadBundle, type Bundle } from '../keras/bundle.js';
import { caseLabel, goldenCase, goldenCaseCount, manifestForCase } from '../keras/golden-cases.js';
import { InputError, KerasBridgeError } from '../errors.js';
import { CONVERSION_REPORT_JSON, MODEL_JSON, modelDirectory, writeModelDirectory } from '../tfjs-io/model-directory.js';
import type { InferenceRewrite } from '../convert/inference-rewrites/fold-batch-norm.js';
import { inferenceRewritesIn } from '../convert/inference-rewrites/rewrites-metadata.js';
import { rewrittenBundleView } from './rewritten-bundle.js';
import { backendThatCouldNotRun, compareBackend } from './compare-backend.js';
import { evaluateBundle, type BundleEvaluation } from './evaluate-bundle.js';
import { layerInputs } from './layer-inputs.js';
import { worstOutcome, type BackendParity, type ModelParity } from './parity-result.js';
import type { Tolerance } from './tolerance.js';
import { TolerancePolicy } from './tolerance-policy.js';
import { registerTemporaryPath } from '../tfjs-io/temporary-paths.js';

export interface ParityOptions {
  backends: BackendName[];
  /** Overrides the per-dtype defaults for every tensor (a policy's per-layer/backend entries still win). */
  tolerance?: Tolerance;
  /** Per-layer and per-backend tolerances and the decision statistic (--tolerances FILE). */
  policy?: TolerancePolicy;
  /** Called as each backend starts, for progress output. */
  onBackend?: (model: string, backend: BackendName) => void;
  /** Called as each stage of a backend's run starts (each parity mode's evaluation in Node, then the comparison), for progress output. */
  onStage?: (stage: string) => void;
  /** Runs chromium-* backends; one is started (and closed) per call when not given. */
  browser?: BrowserSession;
  /** The --custom-layers modules, which browser pages import too. */
  customLayerModules?: string[];
  /** The custom-layer routes conversion may use (--routes); all by default. */
  routes?: readonly RouteName[];
  /** Convert with --fold-batch-norm's inference rewrites, and check that model (rewritten-bundle.ts). */
  foldBatchNorm?: boolean;
}

/**
 * Converts the bundle's model, runs it on each backend, and compares it with the goldens: one
 * result per golden case (each size of a model with open input dimensions; one for other models).
 */
export async function checkBundleParityCases(target: ParityTarget, options: ParityOptions): Promise<ModelParity[]> {
  const { bundleDir, modelDir } = typeof target === 'string' ? { bundleDir: target, modelDir: undefined } : target;
  const bundle = await loadBundle(bundleDir);
  const converted = modelDir ? undefined : await convertBundle(bundle, { ...(options.routes ? { routes: options.routes } : {}), ...(options.foldBatchNorm ? { foldBatchNorm: true } : {}) });
  const rewrites = converted ? (converted.report.inferenceRewrites ?? []) : await rewritesOfModelDirectory(modelDir!);
  const browser = options.browser ?? (options.backends.some(isBrowserBackend) ? new BrowserSession(options.customLayerModules) : undefined);
  const written: WrittenModel = {};
  try {
    const results: ModelParity[] = [];
    for (let index = 0; index < goldenCaseCount(bundle.manifest); index++) {
      const view = { ...bundle, manifest: manifestForCase(bundle.manifest, index) };
      results.push(await checkCase(view, index, modelDir, converted, rewrites, { ...options, ...(browser ? { browser } : {}) }, written));
    }
    return results;
  } finally {
    if (!options.browser) await browser?.close();
    if (written.dir && written.dir !== modelDir) await rm(path.dirname(written.dir), { recursive: true, force: true });
    written.unregister?.();
  }
}

/**
 * checkBundleParityCases for a bundle with one golden case; a bundle recorded at several sizes is
 * refused (comparing only one of them would read as a pass for all).
 */
export async function checkBundleParity(target: ParityTarget, options: ParityOptions): Promise<ModelParity> {
  const results = await checkBundleParityCases(target, options);
  if (results.length !== 1) {
    throw new InputError(
      `${typeof target === 'string' ? target : target.bundleDir}: the bundle has goldens at ${results.length} sizes; ` +
        'check them with checkBundleParityCases (one result per size) or runParity',
    );
  }
  return results[0]!;
}

/** One golden case: `bundle` is its view (golden-cases.ts); `written` keeps the model written for browser pages. */
async function checkCase(
  bundle: Bundle,
  caseIndex: number,
  modelDir: string | undefined,
  converted: ConvertedModel | undefined,
  rewrites: readonly InferenceRewrite[],
  options: ParityOptions,
  written: WrittenModel,
): Promise<ModelParity> {
  // Evaluation (evaluateBundle, in Node or a page) takes the bundle as it is and makes the same view from the model's metadata.
  const compared = rewrittenBundleView(bundle, rewrites);
  const layerOrder = compared.manifest.layers.map((l) => l.name);
  const inputsOf = layerInputs(compared.modelConfig);
  const policy = options.policy ?? new TolerancePolicy({}, options.tolerance);
  const sizes = goldenCase(bundle.manifest, 0);
  // Keras names most models 'sequential'; the bundle's directory name tells them apart, and the sizes tell cases apart.
  const model = caseLabel(path.basename(bundle.dir), sizes);
  const backends: BackendParity[] = [];
  for (const backend of options.backends) {
    options.onBackend?.(model, backend);
    const started = performance.now();
    let evaluation: BundleEvaluation;
    try {
      if (isBrowserBackend(backend)) {
        // The page loads model.json over HTTP, so an in-memory conversion is written out once.
        written.dir ??= modelDir ?? (await writeTemporaryModel(converted!, written));
        evaluation = await options.browser!.evaluate(bundle.dir, written.dir, backend, caseIndex);
      } else {
        evaluation = await evaluateInNode(bundle, backend, modelDir, converted, options.onStage);
      }
    } catch (error) {
      // keras-bridge's own errors stop the run and say so: what is wrong with the bundle or the
      // model is wrong everywhere, and a backend that cannot start (a page without WebGPU, a
      // timeout) is no result. What a backend's kernel throws on this model is that backend's result.
      if (error instanceof KerasBridgeError) throw error;
      backends.push(backendThatCouldNotRun(backend, describeRunError(error), (performance.now() - started) / 1000));
      continue;
    }
    options.onStage?.('comparing with the goldens');
    backends.push(compareBackend({ bundle: compared, backend, policy, layerOrder, inputsOf }, evaluation, (performance.now() - started) / 1000));
  }
  return {
    bundle: bundle.dir,
    model,
    ...(sizes ? { case: { index: caseIndex, name: sizes.name, inputShapes: sizes.input_shapes } } : {}),
    kerasModelName: bundle.manifest.model.name,
    layerOrder,
    conversionWarnings: await conversionWarnings(converted, modelDir),
    outcome: worstOutcome(backends.map((b) => b.outcome)),
    backends,
  };
}

/**
 * A bundle to check; with `modelDir`, the tfjs model is loaded from that converted directory
 * (what users ship) instead of being converted in memory.
 */
export type ParityTarget = string | { bundleDir: string; modelDir?: string };

/** The constraint warnings of the in-memory conversion, or of the conversion report next to a converted model directory. */
async function conversionWarnings(converted: ConvertedModel | undefined, modelDir: string | undefined): Promise<string[]> {
  if (converted) return converted.report.constraintWarnings.map((w) => w.message);
  try {
    const report = JSON.parse(await readFile(path.join(modelDir!, CONVERSION_REPORT_JSON), 'utf8')) as { constraintWarnings?: Array<{ message: string }> };
    return (report.constraintWarnings ?? []).map((w) => w.message);
  } catch {
    return []; // a model directory without our report (converted elsewhere, or before it existed)
  }
}

/** The inference rewrites a converted model directory's model.json records (none for a directory converted without them). */
async function rewritesOfModelDirectory(modelDir: string): Promise<InferenceRewrite[]> {
  try {
    const json = JSON.parse(await readFile(path.join(modelDir, MODEL_JSON), 'utf8')) as { userDefinedMetadata?: Record<string, unknown> };
    return json.userDefinedMetadata ? inferenceRewritesIn(json.userDefinedMetadata) : [];
  } catch {
    return []; // unreadable: loading the model reports it
  }
}

/** The model written for browser pages, in a temporary directory removed when the check ends or is interrupted. */
interface WrittenModel {
  dir?: string;
  unregister?: () => void;
}

async function writeTemporaryModel(converted: ConvertedModel, written: WrittenModel): Promise<string> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'keras-bridge-model-'));
  written.unregister = registerTemporaryPath(tmp);
  const dir = path.join(tmp, 'model');
  try {
    await writeModelDirectory(dir, converted);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    written.unregister();
    delete written.unregister;
    throw e;
  }
  return dir;
}

async function evaluateInNode(bundle: Bundle, backend: NodeBackendName, modelDir: string | undefined, converted: ConvertedModel | undefined, onStage?: (stage: string) => void): Promise<BundleEvaluation> {
  await useBackend(backend);
  // A converted directory carries the classes generated from Python source (route 1) next to model.json.
  if (modelDir && existsSync(path.join(modelDir, TRANSLATED_MODULE))) await loadCustomLayerModules([path.join(modelDir, TRANSLATED_MODULE)]);
  return evaluateBundle(() => tf.loadLayersModel(modelDir ? modelDirectory(modelDir) : tf.io.fromMemory(toModelArtifacts(converted!))), bundle, onStage);
}

/** The error's class and message, one line (a kernel's message can span several). */
function describeRunError(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return text.replace(/\s*\n\s*/g, ' ').slice(0, 2000);
}
