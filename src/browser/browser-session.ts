import { existsSync } from 'node:fs';
import { TRANSLATED_MODULE } from '../convert/translated-layers.js';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { browserTfjsBackend, browserTfjsFlags, type BrowserBackendName } from '../backends/backend-names.js';
import { BackendError } from '../errors.js';
import type { ComputedTensor } from '../parity/evaluate-model.js';
import type { AfterTrainingEvaluation, OptimizerEvaluation } from '../parity/evaluate-after-training.js';
import type { IsolatedEvaluation } from '../parity/evaluate-isolated.js';
import type { TrainingModeEvaluation } from '../parity/evaluate-training.js';
import { browserMounts, browserPages, PACKAGE_ROOT } from './browser-page.js';
import { launchChromium } from './chromium.js';
import { startStaticServer, type StaticServer } from './static-server.js';

type Browser = Awaited<ReturnType<typeof launchChromium>>;

export interface BrowserEvaluation {
  computed: Map<string, ComputedTensor>;
  gradientsNotCompared: string | null;
  isolation: IsolatedEvaluation;
  training: TrainingModeEvaluation | null;
  afterTraining: AfterTrainingEvaluation | null;
}

type EncodedTensors = Array<[string, { shape: number[]; dtype: string; base64: string }]>;

/** What the page sends back: tensors as base64 of their bytes (a JSON array of floats is 4x bigger). */
interface PageResult {
  backend: string;
  computed: Array<[string, { shape: number[]; dtype: string; base64: string }]>;
  gradientsNotCompared: string | null;
  isolated: Array<[string, { shape: number[]; dtype: string; base64: string }]>;
  skipped: IsolatedEvaluation['skipped'];
  gradients: Omit<IsolatedEvaluation['gradients'], 'computed'> & { computed: Array<[string, { shape: number[]; dtype: string; base64: string }]> };
  training: (Omit<TrainingModeEvaluation, 'computed'> & { computed: EncodedTensors }) | null;
  afterTraining: (Omit<AfterTrainingEvaluation, 'runs'> & { runs: Array<Omit<OptimizerEvaluation, 'computed'> & { computed: EncodedTensors }> }) | null;
}

/**
 * Runs bundles' converted models in headless Chromium: one browser and one local HTTP server for
 * the whole session (started on first use), a fresh page per model and backend. The page loads
 * the model with stock tf.loadLayersModel over HTTP and runs keras-bridge's own evaluation code
 * (dist/src/parity/*.js) in the browser, so both runtimes are checked the same way.
 */
export class BrowserSession {
  private browser?: Browser;
  private server?: StaticServer;
  /** URL prefix → directory; the server reads it on each request, so mounts can be added later. */
  private readonly routes: Record<string, string> = browserMounts();
  private customModuleUrls: string[] = [];

  /** `customLayerModules`: the --custom-layers specifiers, loaded into each page too. */
  constructor(private readonly customLayerModules: string[] = []) {}

  /** `caseIndex`: which golden case (size) of the bundle to evaluate (golden-cases.ts). */
  async evaluate(bundleDir: string, modelDir: string, backend: BrowserBackendName, caseIndex = 0): Promise<BrowserEvaluation> {
    await this.start();
    const bundleUrl = this.mount(bundleDir);
    const modelUrl = `${this.mount(modelDir)}model.json`;
    const page = await this.browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${this.server!.url}/`);
      const result = (await page.evaluate(evaluateInPage, {
        bundleUrl,
        modelUrl,
        backend: browserTfjsBackend(backend),
        flags: browserTfjsFlags(backend),
        modules: [...this.customModuleUrls, ...this.modelModules(modelDir)],
        caseIndex,
      })) as PageResult;
      if (result.backend !== browserTfjsBackend(backend)) {
        throw new BackendError(`${backend}: the page ran on '${result.backend}' instead (is WebGL available in this Chromium?)`);
      }
      return {
        computed: new Map(result.computed.map(([key, t]) => [key, decodeTensor(t)])),
        gradientsNotCompared: result.gradientsNotCompared,
        isolation: {
          computed: new Map(result.isolated.map(([key, t]) => [key, decodeTensor(t)])),
          skipped: result.skipped,
          gradients: { ...result.gradients, computed: new Map(result.gradients.computed.map(([key, t]) => [key, decodeTensor(t)])) },
        },
        training: result.training && { ...result.training, computed: decodeTensors(result.training.computed) },
        afterTraining: result.afterTraining && {
          ...result.afterTraining,
          runs: result.afterTraining.runs.map((run) => ({ ...run, computed: decodeTensors(run.computed) })),
        },
      };
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw new BackendError(`${backend}: evaluating ${path.basename(bundleDir)} in Chromium failed: ${(e as Error).message.split('\n')[0]}${errors.length ? ` (page errors: ${errors.join('; ')})` : ''}`);
    } finally {
      await page.close();
    }
  }

  async close(): Promise<void> {
    await this.browser?.close();
    await this.server?.close();
    this.browser = undefined;
    this.server = undefined;
  }

  private async start(): Promise<void> {
    if (this.browser) return;
    const moduleFiles = this.customLayerModules.map(resolveModuleFile);
    this.customModuleUrls = moduleFiles.map((file) => this.urlOfModule(file));
    this.server = await startStaticServer(this.routes, browserPages());
    this.browser = await launchChromium();
  }

  /** Serves `dir` under a URL of its own; the server looks mounts up when requests come. */
  private mount(dir: string): string {
    const resolved = path.resolve(dir);
    const existing = Object.entries(this.routes).find(([, d]) => d === resolved);
    if (existing) return existing[0];
    const url = `/mount/${Object.keys(this.routes).length}/`;
    this.routes[url] = resolved;
    return url;
  }

  /** custom-layers.js next to model.json: the classes keras-bridge generated from Python source (route 1). */
  private modelModules(modelDir: string): string[] {
    const file = path.join(modelDir, TRANSLATED_MODULE);
    return existsSync(file) ? [this.urlOfModule(path.resolve(file))] : [];
  }

  private urlOfModule(file: string): string {
    const dist = path.join(PACKAGE_ROOT, 'dist') + path.sep;
    if (file.startsWith(dist)) return `/dist/${path.relative(dist, file).split(path.sep).join('/')}`;
    return `${this.mount(path.dirname(file))}${path.basename(file)}`;
  }
}

function resolveModuleFile(specifier: string): string {
  const isPath = specifier.startsWith('.') || specifier.startsWith('/') || /\.[cm]?js$/.test(specifier);
  return isPath ? path.resolve(specifier) : fileURLToPath(import.meta.resolve(specifier, pathToFileURL(path.join(PACKAGE_ROOT, 'package.json')).href));
}

function decodeTensors(tensors: EncodedTensors): Map<string, ComputedTensor> {
  return new Map(tensors.map(([key, t]) => [key, decodeTensor(t)]));
}

function decodeTensor(t: { shape: number[]; dtype: string; base64: string }): ComputedTensor {
  const bytes = Buffer.from(t.base64, 'base64');
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const values = t.dtype === 'int32' ? new Int32Array(buffer) : t.dtype === 'bool' ? new Uint8Array(buffer) : new Float32Array(buffer);
  return { shape: t.shape, values };
}

/** Runs in the page (serialized by playwright): no closures over Node-side values. */
async function evaluateInPage(args: { bundleUrl: string; modelUrl: string; backend: string; flags: Record<string, boolean>; modules: string[]; caseIndex: number }): Promise<PageResult> {
  const load = (specifier: string) => import(/* @vite-ignore */ specifier);
  const tf = await load('@tensorflow/tfjs');
  if (args.backend === 'wasm') {
    const wasm = await load('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  }
  const runtime = await load('/dist/src/runtime.js');
  for (const m of args.modules) await load(m);
  for (const [flag, value] of Object.entries(args.flags)) tf.env().set(flag, value);
  await tf.setBackend(args.backend);
  await tf.ready();
  runtime.registerKernelFixes(args.backend);
  const fetchJson = async (url: string) => (await fetch(url)).json();
  const { manifestForCase } = await load('/dist/src/keras/golden-cases.js');
  const manifest = manifestForCase(await fetchJson(`${args.bundleUrl}manifest.json`), args.caseIndex);
  const modelConfig = await fetchJson(`${args.bundleUrl}${manifest.model.config_file}`);
  const goldenBytes = new Uint8Array(await (await fetch(`${args.bundleUrl}${manifest.goldens.file}`)).arrayBuffer());
  const bundle = { dir: args.bundleUrl, manifest, modelConfig, weightBytes: new Uint8Array(0), goldenBytes };
  const model = await tf.loadLayersModel(args.modelUrl);
  const { evaluateModel } = await load('/dist/src/parity/evaluate-model.js');
  const { evaluateLayersInIsolation } = await load('/dist/src/parity/evaluate-isolated.js');
  const { evaluateTrainingMode } = await load('/dist/src/parity/evaluate-training.js');
  const { evaluateAfterTraining } = await load('/dist/src/parity/evaluate-after-training.js');
  const encode = (t: { shape: number[]; values: ArrayLike<number> & { buffer: ArrayBuffer; byteOffset: number; byteLength: number } }) => {
    const bytes = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    const dtype = t.values instanceof Int32Array ? 'int32' : t.values instanceof Uint8Array ? 'bool' : 'float32';
    return { shape: t.shape, dtype, base64: btoa(binary) };
  };
  const { computed, gradientsNotCompared } = await evaluateModel(model, bundle);
  const isolation = await evaluateLayersInIsolation(model, bundle);
  const training: TrainingModeEvaluation | null = await evaluateTrainingMode(model, bundle);
  model.dispose();
  const afterTraining: AfterTrainingEvaluation | null = await evaluateAfterTraining(() => tf.loadLayersModel(args.modelUrl), bundle);
  const encodeAll = (tensors: Map<string, ComputedTensor>) => [...tensors].map(([k, v]): [string, ReturnType<typeof encode>] => [k, encode(v as Parameters<typeof encode>[0])]);
  return {
    backend: tf.getBackend(),
    computed: [...computed].map(([k, v]) => [k, encode(v)]),
    gradientsNotCompared,
    isolated: [...isolation.computed].map(([k, v]) => [k, encode(v)]),
    skipped: isolation.skipped,
    gradients: { ...isolation.gradients, computed: [...isolation.gradients.computed].map(([k, v]) => [k, encode(v)]) },
    training: training && { ...training, computed: encodeAll(training.computed) },
    afterTraining: afterTraining && { ...afterTraining, runs: afterTraining.runs.map((run) => ({ ...run, computed: encodeAll(run.computed) })) },
  };
}
