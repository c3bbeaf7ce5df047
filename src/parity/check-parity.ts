import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { isBrowserBackend, useBackend, type BackendName, type NodeBackendName } from '../backends/index.js';
import { BrowserSession } from '../browser/browser-session.js';
import { TRANSLATED_MODULE } from '../convert/translated-layers.js';
import { routeInputs, type RouteName } from '../convert/route-inputs.js';
import { loadCustomLayerModules } from '../cli/custom-layer-modules.js';
import { convertKerasModel, toModelArtifacts, type ConvertedModel } from '../convert/convert-model.js';
import { weightsFromBundle } from '../convert/weight-source.js';
import { bundleGolden, loadBundle, type Bundle } from '../keras/bundle.js';
import { caseLabel, goldenCase, goldenCaseCount, manifestForCase } from '../keras/golden-cases.js';
import { InputError } from '../errors.js';
import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { toFloat64 } from '../keras/packed-tensor.js';
import { CONVERSION_REPORT_JSON, modelDirectory, writeModelDirectory } from '../tfjs-io/model-directory.js';
import { compareIsolatedGradients } from './compare-isolated-gradients.js';
import { compareGolden } from './compare-golden.js';
import { compareAfterTraining, compareTrainingMode } from './compare-training.js';
import { evaluateAfterTraining, type AfterTrainingEvaluation } from './evaluate-after-training.js';
import { evaluateLayersInIsolation, type IsolatedEvaluation } from './evaluate-isolated.js';
import { evaluateModel, goldenKey, isGradient, type ComputedTensor } from './evaluate-model.js';
import { evaluateTrainingMode, type TrainingModeEvaluation } from './evaluate-training.js';
import { firstDivergingLayer, firstDivergingLayerBackward } from './first-diverging-layer.js';
import { labelOf } from './golden-label.js';
import { layerInputs } from './layer-inputs.js';
import { outcomeOf, worstOutcome, type BackendParity, type ModelParity, type TensorParity } from './parity-result.js';
import { backendVerdict } from './parity-verdict.js';
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
  /** Runs chromium-* backends; one is started (and closed) per call when not given. */
  browser?: BrowserSession;
  /** The --custom-layers modules, which browser pages import too. */
  customLayerModules?: string[];
  /** The custom-layer routes conversion may use (--routes); all by default. */
  routes?: readonly RouteName[];
}

interface Evaluation {
  computed: Map<string, ComputedTensor>;
  /** Why the end-to-end gradients are missing from `computed`, else null (absent: older pages). */
  gradientsNotCompared?: string | null;
  isolation: IsolatedEvaluation;
  training: TrainingModeEvaluation | null;
  afterTraining: AfterTrainingEvaluation | null;
}

/**
 * Converts the bundle's model, runs it on each backend, and compares it with the goldens: one
 * result per golden case (each size of a model with open input dimensions; one for other models).
 */
export async function checkBundleParityCases(target: ParityTarget, options: ParityOptions): Promise<ModelParity[]> {
  const { bundleDir, modelDir } = typeof target === 'string' ? { bundleDir: target, modelDir: undefined } : target;
  const bundle = await loadBundle(bundleDir);
  const converted = modelDir ? undefined : await convertBundle(bundle, options.routes);
  const browser = options.browser ?? (options.backends.some(isBrowserBackend) ? new BrowserSession(options.customLayerModules) : undefined);
  const written: WrittenModel = {};
  try {
    const results: ModelParity[] = [];
    for (let index = 0; index < goldenCaseCount(bundle.manifest); index++) {
      const view = { ...bundle, manifest: manifestForCase(bundle.manifest, index) };
      results.push(await checkCase(view, index, modelDir, converted, { ...options, ...(browser ? { browser } : {}) }, written));
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
  options: ParityOptions,
  written: WrittenModel,
): Promise<ModelParity> {
  const layerOrder = bundle.manifest.layers.map((l) => l.name);
  const inputsOf = layerInputs(bundle.modelConfig);
  const policy = options.policy ?? new TolerancePolicy({}, options.tolerance);
  const sizes = goldenCase(bundle.manifest, 0);
  // Keras names most models 'sequential'; the bundle's directory name tells them apart, and the sizes tell cases apart.
  const model = caseLabel(path.basename(bundle.dir), sizes);
  const backends: BackendParity[] = [];
  for (const backend of options.backends) {
    options.onBackend?.(model, backend);
    const started = performance.now();
    let evaluation: Evaluation;
    if (isBrowserBackend(backend)) {
      // The page loads model.json over HTTP, so an in-memory conversion is written out once.
      written.dir ??= modelDir ?? (await writeTemporaryModel(converted!, written));
      evaluation = await options.browser!.evaluate(bundle.dir, written.dir, backend, caseIndex);
    } else {
      evaluation = await evaluateInNode(bundle, backend, modelDir, converted);
    }
    backends.push(compareBackend(bundle, backend, evaluation, policy, layerOrder, inputsOf, (performance.now() - started) / 1000));
  }
  return {
    bundle: bundle.dir,
    model,
    ...(sizes ? { case: { index: caseIndex, name: sizes.name, inputShapes: sizes.input_shapes } } : {}),
    kerasModelName: bundle.manifest.model.name,
    layerOrder,
    conversionWarnings: await conversionWarnings(converted, modelDir),
    passed: backends.every((b) => b.passed),
    outcome: worstOutcome(backends.map(outcomeOf)),
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

async function convertBundle(bundle: Bundle, routes?: readonly RouteName[]): Promise<ConvertedModel> {
  const source = `${bundle.dir}/${bundle.manifest.model.config_file}`;
  return convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), source, await routeInputs(bundle.manifest, bundle.graphBytes, routes));
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

async function evaluateInNode(bundle: Bundle, backend: NodeBackendName, modelDir: string | undefined, converted: ConvertedModel | undefined): Promise<Evaluation> {
  await useBackend(backend);
  // A converted directory carries the classes generated from Python source (route 1) next to model.json.
  if (modelDir && existsSync(path.join(modelDir, TRANSLATED_MODULE))) await loadCustomLayerModules([path.join(modelDir, TRANSLATED_MODULE)]);
  const loadModel = () => tf.loadLayersModel(modelDir ? modelDirectory(modelDir) : tf.io.fromMemory(toModelArtifacts(converted!)));
  const model = await loadModel();
  try {
    return {
      ...(await evaluateModel(model, bundle)),
      isolation: await evaluateLayersInIsolation(model, bundle),
      training: await evaluateTrainingMode(model, bundle),
      afterTraining: await evaluateAfterTraining(loadModel, bundle),
    };
  } finally {
    model.dispose();
  }
}

function compareBackend(
  bundle: Bundle,
  backend: BackendName,
  evaluation: Evaluation,
  policy: TolerancePolicy,
  layerOrder: string[],
  inputsOf: Map<string, string[]>,
  seconds: number,
): BackendParity {
  const { computed, isolation } = evaluation;
  const gradientsNotCompared = evaluation.gradientsNotCompared ?? null;
  const tensors = compareWithGoldens(bundle, computed, backend, policy, (g) => gradientsNotCompared === null || !isGradient(g));
  const isolatedTensors = compareWithGoldens(bundle, isolation.computed, backend, policy, (g) => isolation.computed.has(goldenKey(g)), true).map(
    (t) => ({ ...t, label: `${t.label} (isolated)` }),
  );
  const failingAlone = new Set(isolatedTensors.filter((t) => !t.comparison.passed).map((t) => t.layer!));
  const gradients = compareIsolatedGradients(bundle, isolation.gradients, backend, policy, layerOrder);
  const comparedTraining = compareTrainingMode(bundle, evaluation.training, backend, policy);
  // Training mode is localized as inference is, on its own tensors.
  const training = comparedTraining && {
    ...comparedTraining,
    firstDivergingLayer: firstDivergingLayer(comparedTraining.tensors, layerOrder, inputsOf),
    firstDivergingLayerBackward: firstDivergingLayerBackward(comparedTraining.tensors, layerOrder, inputsOf),
  };
  const afterTraining = compareAfterTraining(bundle, evaluation.afterTraining, backend, policy);
  const isolated = { tensors: isolatedTensors, failingLayers: layerOrder.filter((l) => failingAlone.has(l)), skipped: isolation.skipped, gradients };
  const { outcome } = backendVerdict({ tensors, isolated, training, afterTraining, gradientsNotCompared });
  return {
    backend,
    passed: outcome === 'pass',
    outcome,
    gradientsNotCompared,
    ...(training ? { training } : {}),
    ...(afterTraining ? { afterTraining } : {}),
    firstDivergingLayer: firstDivergingLayer(tensors, layerOrder, inputsOf),
    firstDivergingLayerBackward: firstDivergingLayerBackward(tensors, layerOrder, inputsOf),
    isolated,
    seconds,
    tensors,
  };
}

function compareWithGoldens(
  bundle: Bundle,
  computed: Map<string, { shape: number[]; values: ArrayLike<number> }>,
  backend: string,
  policy: TolerancePolicy,
  include: (golden: GoldenTensorRecord) => boolean = () => true,
  isolated = false,
): TensorParity[] {
  const compared: TensorParity[] = [];
  const layerNames = new Set(bundle.manifest.layers.map((l) => l.name));
  for (const golden of bundle.manifest.goldens.tensors) {
    if (golden.kind === 'input' || golden.kind === 'cotangent' || !include(golden)) continue;
    // A model input's gradient belongs to its Input layer (Keras names both alike): the backward pass ends there.
    const layer = golden.kind === 'grad_input' && layerNames.has(golden.name) ? { layer: golden.name } : {};
    compared.push(
      compareGolden(golden, computed.get(goldenKey(golden)), toFloat64(bundleGolden(bundle, golden)), { backend, policy, label: labelOf(golden), isolated, ...layer }),
    );
  }
  return compared;
}
