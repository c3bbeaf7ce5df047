import { isBrowserBackend, probeBackend, type BackendName } from '../backends/index.js';
import { BrowserSession } from '../browser/browser-session.js';
import { BackendError } from '../errors.js';
import { readBundleManifest } from '../keras/bundle.js';
import { goldenCaseCount } from '../keras/golden-cases.js';
import { checkBundleParityCases, type ParityOptions, type ParityTarget } from './check-parity.js';
import { worstOutcome, type ModelParity, type ParityRun } from './parity-result.js';

export interface RunParityOptions extends Omit<ParityOptions, 'backends'> {
  backends: BackendName[];
  /** When false, a backend that cannot run here is reported and skipped instead of an error. */
  requireAllBackends: boolean;
  /** Run only this share of the (bundle × backend) pairs: pair k runs in shard k mod count + 1. */
  shard?: { index: number; count: number };
  /** Called once before the first onBackend with how many times it will be called: golden cases × backends, this shard's. */
  onPlan?: (steps: number) => void;
}

/** Parity of every bundle on every requested backend that can run here. */
export async function runParity(bundles: ParityTarget[], options: RunParityOptions): Promise<ParityRun> {
  const usable: BackendName[] = [];
  const unavailableBackends: ParityRun['unavailableBackends'] = [];
  const backendDetails: NonNullable<ParityRun['backendDetails']> = [];
  for (const backend of options.backends) {
    const probe = await probeBackend(backend);
    if (probe.available) {
      usable.push(backend);
      if (probe.details) backendDetails.push({ backend, details: probe.details });
    } else if (options.requireAllBackends) throw new BackendError(`backend '${backend}' cannot run here: ${probe.reason}`);
    else unavailableBackends.push({ backend, reason: probe.reason ?? 'unavailable' });
  }
  const models: ModelParity[] = [];
  let pair = 0;
  const plan = bundles.map((bundle) => ({ bundle, backends: usable.filter(() => !options.shard || pair++ % options.shard.count === options.shard.index - 1) }));
  if (options.onPlan) {
    // Each golden case (each size of a model with open dimensions) runs on each of the bundle's backends.
    const cases = await Promise.all(plan.map(({ bundle, backends }) => (backends.length === 0 ? 0 : caseCount(bundle))));
    options.onPlan(plan.reduce((sum, { backends }, i) => sum + backends.length * cases[i]!, 0));
  }
  // One browser session for the whole run (a Chromium per distinct set of launch arguments).
  const browser = options.browser ?? (usable.some(isBrowserBackend) ? new BrowserSession(options.customLayerModules) : undefined);
  try {
    for (const { bundle, backends: mine } of plan) {
      if (mine.length > 0) models.push(...(await checkBundleParityCases(bundle, { ...options, backends: mine, ...(browser ? { browser } : {}) })));
    }
  } finally {
    if (!options.browser) await browser?.close();
  }
  // No backend could run: nothing was compared, which is no pass.
  const outcome = usable.length > 0 ? worstOutcome(models.map((m) => m.outcome)) : 'fail';
  return {
    schema: 'keras-bridge-parity',
    schemaVersion: 2,
    outcome,
    models,
    unavailableBackends,
    ...(backendDetails.length > 0 ? { backendDetails } : {}),
  };
}

async function caseCount(target: ParityTarget): Promise<number> {
  return goldenCaseCount(await readBundleManifest(typeof target === 'string' ? target : target.bundleDir));
}
