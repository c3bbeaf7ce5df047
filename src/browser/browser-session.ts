import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PageSetupStep } from '../backends/backend-descriptor.js';
import { browserBackend, type BrowserBackendName } from '../backends/backend-names.js';
import type { KernelFixSet } from '../backends/kernel-fixes/index.js';
import { TRANSLATED_MODULE } from '../convert/translated-layers.js';
import { BackendError } from '../errors.js';
import { moduleFile } from '../module-specifier.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type { BundleEvaluation } from '../parity/evaluate-bundle.js';
import type { PageEvaluateArgs } from '../parity/page-evaluate.js';
import { decodeEvaluation, type Encoded } from '../parity/tensor-codec.js';
import { browserMounts, browserPages } from './browser-page.js';
import { launchChromium } from './chromium.js';
import { startStaticServer, type StaticServer } from './static-server.js';

type Browser = Awaited<ReturnType<typeof launchChromium>>;

/**
 * What a page runs once its backend is set up: `export async function <name>(modelUrl, args)` of a
 * browser-safe module under dist/ (`/dist/src/...js`), whose result comes back through playwright
 * (plain JSON-like values). Parity's evaluation is one (src/parity/page-evaluate.ts), the
 * benchmark's timing another (src/bench/page-bench-task.ts).
 */
export interface PageTask {
  module: string;
  name: string;
  args: unknown;
}

/** What the page sends back: the backend it ran on, and the task's result. */
interface PageResult {
  backend: string;
  result: unknown;
}

/** How BrowserSession.runTask waits for a page task, and where the lines the page logs go. */
export interface RunTaskOptions {
  timeoutS?: number;
  onConsole?: (line: string) => void;
  /** Functions of this process the page may call by name on globalThis (playwright's exposeFunction): the bench's Keras partner. */
  exposed?: Record<string, (arg: unknown) => Promise<unknown>>;
}

/**
 * Runs bundles' converted models in headless Chromium: one browser and one local HTTP server for
 * the whole session (started on first use), a fresh page per model and backend. The page loads
 * the model with stock tf.loadLayersModel over HTTP and runs keras-bridge's one evaluation entry
 * point (dist/src/parity/evaluate-bundle.js, as Node does) in the browser, so both runtimes are
 * checked the same way.
 */
export class BrowserSession {
  private readonly browsers = new Map<string, Promise<Browser>>();
  private server?: StaticServer;
  /** URL prefix → directory; the server reads it on each request, so mounts can be added later. */
  private readonly routes: Record<string, string> = browserMounts();
  private customModuleUrls: string[] = [];

  /** `customLayerModules`: the --custom-layers specifiers, loaded into each page too. */
  constructor(private readonly customLayerModules: string[] = []) {}

  /** `caseIndex`: which golden case (size) of the bundle to evaluate (golden-cases.ts). */
  async evaluate(bundleDir: string, modelDir: string, backend: BrowserBackendName, caseIndex = 0): Promise<BundleEvaluation> {
    await this.start();
    const args: PageEvaluateArgs = { bundleUrl: this.mount(bundleDir), caseIndex };
    const encoded = await this.runTask<Encoded>(modelDir, backend, { module: '/dist/src/parity/page-evaluate.js', name: 'evaluateInPage', args }, `evaluating ${path.basename(bundleDir)}`);
    return decodeEvaluation(encoded) as BundleEvaluation;
  }

  /**
   * Runs `task` in a fresh page on `backend`, with the model directory served and its custom
   * layers and the --custom-layers modules loaded; `what` names the work in errors. With
   * `timeoutS`, a page still running after that long is closed and a BackendError says so;
   * `onConsole` receives each line the page logs as it runs (what a task reports before it ends).
   */
  async runTask<T>(modelDir: string, backend: BrowserBackendName, task: PageTask, what: string, { timeoutS, onConsole, exposed }: RunTaskOptions = {}): Promise<T> {
    const descriptor = browserBackend(backend);
    if (!descriptor) throw new BackendError(`${backend}: not a browser backend keras-bridge knows`);
    await this.start();
    const modelUrl = `${this.mount(modelDir)}model.json`;
    const page = await (await this.browserFor(descriptor.chromiumArgs)).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    if (onConsole) page.on('console', (message) => onConsole(message.text()));
    for (const [name, fn] of Object.entries(exposed ?? {})) await page.exposeFunction(name, fn);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await page.goto(`${this.server!.url}/`);
      const evaluation = page.evaluate(runInPage, {
        modelUrl,
        backend: descriptor.tfjsBackend,
        flags: descriptor.tfjsFlags,
        setup: descriptor.pageSetup,
        kernelFixes: descriptor.kernelFixes,
        modules: [...this.customModuleUrls, ...this.modelModules(modelDir)],
        task,
      }) as Promise<PageResult>;
      const result = timeoutS === undefined ? await evaluation : await Promise.race([evaluation, new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BackendError(`${backend}: ${what} did not finish within ${timeoutS} s`)), timeoutS * 1000);
      })]);
      if (result.backend !== descriptor.tfjsBackend) {
        throw new BackendError(`${backend}: the page ran on '${result.backend}' instead of '${descriptor.tfjsBackend}' (is ${descriptor.tfjsBackend} available in this Chromium?)`);
      }
      return result.result as T;
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw new BackendError(`${backend}: ${what} in Chromium failed: ${(e as Error).message.split('\n')[0]}${errors.length ? ` (page errors: ${errors.join('; ')})` : ''}`);
    } finally {
      clearTimeout(timer);
      await page.close();
    }
  }

  async close(): Promise<void> {
    const browsers = [...this.browsers.values()];
    this.browsers.clear();
    for (const browser of browsers) await (await browser.catch(() => undefined))?.close();
    await this.server?.close();
    this.server = undefined;
  }

  private async start(): Promise<void> {
    if (this.server) return;
    const moduleFiles = this.customLayerModules.map(moduleFile);
    this.customModuleUrls = moduleFiles.map((file) => this.urlOfModule(file));
    this.server = await startStaticServer(this.routes, browserPages());
  }

  /**
   * One Chromium per distinct set of launch arguments, started on first use: backends that need
   * none beyond the base ones (cpu, wasm, webgl) share one, so WebGPU's flags cannot touch WebGL.
   */
  private browserFor(args: readonly string[]): Promise<Browser> {
    const key = JSON.stringify(args);
    let browser = this.browsers.get(key);
    if (!browser) {
      browser = launchChromium(args);
      this.browsers.set(key, browser);
    }
    return browser;
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

/** Runs in the page (serialized by playwright): no closures over Node-side values. */
async function runInPage(args: {
  modelUrl: string;
  backend: string;
  flags: Record<string, boolean | number>;
  setup: PageSetupStep[];
  kernelFixes: KernelFixSet | null;
  modules: string[];
  task: PageTask;
}): Promise<PageResult> {
  const load = (specifier: string) => import(/* @vite-ignore */ specifier);
  const tf = await load('@tensorflow/tfjs');
  // The backend descriptor's setup: its modules, and the calls that configure them.
  for (const step of args.setup) {
    const module = await load(step.module);
    if (step.call) await module[step.call](...(step.args ?? []));
  }
  const runtime = await load('/dist/src/runtime.js');
  for (const m of args.modules) await load(m);
  for (const [flag, value] of Object.entries(args.flags)) tf.env().set(flag, value);
  await tf.setBackend(args.backend);
  await tf.ready();
  runtime.registerKernelFixes(args.backend, args.kernelFixes);
  const task = await load(args.task.module);
  const result: unknown = await task[args.task.name](args.modelUrl, args.task.args);
  return { backend: tf.getBackend(), result };
}
