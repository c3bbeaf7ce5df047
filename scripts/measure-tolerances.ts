/**
 * Measures float32 error between Keras and tfjs, the figures docs/tolerances.md's defaults are
 * chosen from. Exports fixtures/models/tolerance_probe.py and the seed bundles' models, runs
 * parity with zero tolerance on every backend here, and prints, per backend and tensor kind, the
 * largest absolute error and the smallest atol that passes at several rtol values. Bundles are
 * exported with 3 training steps, so the table also has training mode's tensors ("training:
 * kind") and each optimizer's trained-weight changes ("after 3 steps: implementation").
 *
 *   node dist/scripts/measure-tolerances.js [--batch-size 16]
 *
 * With --bundles it measures bundles already exported instead (a directory without manifest.json
 * stands for the bundles below it, e.g. fixtures/bundles/zoo), and --backend picks the backends
 * (any registered one, chromium-* included; default: the Node backends that run here). It then
 * also lists the worst tensors by name and the bundles a backend could not run, with the time taken:
 *
 *   node dist/scripts/measure-tolerances.js --backend chromium-webgpu --rtol 1e-4 --bundles fixtures/bundles/zoo
 *
 * --custom-layers MODULE,... loads modules with the bundles' custom layers, as parity's flag does;
 * --json FILE writes every tensor's figures.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import tf from '#tfjs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBackendName, isBrowserBackend, NODE_BACKENDS, probeBackend, type BackendName } from '../src/backends/index.js';
import { BrowserSession } from '../src/browser/browser-session.js';
import { loadCustomLayerModules } from '../src/cli/custom-layer-modules.js';
import '../src/layers/seed/index.js';
// The training probe's custom layer (fixtures/models/training_model.py's TrainingNoise).
import '../test/support/training-noise.js';
import { checkBundleParityCases } from '../src/parity/check-parity.js';
import type { TensorParity } from '../src/parity/parity-result.js';
import { exportWithPython } from '../src/python-export/python-exporter.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RTOLS = [0, 1e-6, 1e-5, 1e-4, 1e-3];
const PROBES = [
  { name: 'deep_mlp', factory: 'tolerance_probe:deep_mlp' },
  { name: 'two_branch', factory: 'functional_example:two_branch_model' },
  { name: 'swish', factory: 'seed_models:swish_model' },
  { name: 'temporal', factory: 'seed_models:temporal_model' },
  { name: 'training', factory: 'training_model:training_model' },
  { name: 'deep', factory: 'deep_fault_model:deep_model' },
];
const TRAIN_STEPS = 3;

interface WorstTensor {
  backend: string;
  model: string;
  kind: string;
  label: string;
  minPassingAtol: number;
  maxAbsError: number;
}

async function main(): Promise<void> {
  tf.enableProdMode();
  const { values } = parseArgs({
    options: {
      'batch-size': { type: 'string', default: '16' },
      backend: { type: 'string' },
      bundles: { type: 'string' },
      'custom-layers': { type: 'string' },
      json: { type: 'string' },
      rtol: { type: 'string' },
      top: { type: 'string', default: '15' },
    },
  });
  // Loaded here and into each page, like parity --custom-layers.
  const customLayerModules = ['keras-bridge/layers/seed', ...(values['custom-layers'] ? values['custom-layers'].split(',') : [])];
  await loadCustomLayerModules(customLayerModules.slice(1));
  const batchSize = Number(values['batch-size']) || 16;
  const rtols = values.rtol ? values.rtol.split(',').map(Number) : RTOLS;
  const requested = values.backend ? values.backend.split(',') : [...NODE_BACKENDS];
  const unknown = requested.filter((b) => !isBackendName(b));
  if (unknown.length > 0) throw new Error(`unknown backend ${unknown.join(', ')}`);
  const backends: BackendName[] = [];
  for (const b of requested) if ((await probeBackend(b)).available) backends.push(b);
  const browser = backends.some(isBrowserBackend) ? new BrowserSession(customLayerModules) : undefined;
  // worst[backend][kind][rtol] = smallest atol passing every element at that rtol
  const worst = new Map<string, number[]>();
  const maxAbs = new Map<string, number>();
  const tensors: WorstTensor[] = [];
  const failed: string[] = [];
  const started = performance.now();
  let seconds = 0;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-tolerances-'));
  try {
    const targets = values.bundles ? values.bundles.split(',').flatMap(bundlesUnder) : await exportProbes(tmp, batchSize);
    for (const [index, dir] of targets.entries()) {
      process.stderr.write(`[${index + 1}/${targets.length}] ${path.relative(ROOT, dir)}\n`);
      for (const rtol of rtols) {
        let results;
        try {
          results = await checkBundleParityCases(dir, { backends, tolerance: { atol: 0, rtol }, ...(browser ? { browser } : {}), customLayerModules });
        } catch (e) {
          failed.push(`${path.relative(ROOT, dir)}: ${(e as Error).message.split('\n')[0]}`);
          break;
        }
        for (const result of results) {
          for (const b of result.backends) {
            const kinds: Array<{ t: TensorParity; kind: string }> = [
              ...b.tensors.map((t) => ({ t, kind: t.kind as string })),
              ...b.isolated.tensors.map((t) => ({ t, kind: `layer alone: ${t.kind}` })),
              ...b.isolated.gradients.tensors.map((t) => ({ t, kind: `layer alone: ${t.kind}` })),
              ...(b.training?.tensors ?? []).map((t) => ({ t, kind: `training: ${t.kind}` })),
              ...(b.afterTraining?.optimizers ?? []).filter((o) => o.counted !== false).flatMap((o) => o.tensors.map((t) => ({ t, kind: `after ${TRAIN_STEPS} steps: ${o.implementation}` }))),
            ];
            for (const { t, kind } of kinds) {
              const key = `${b.backend}\t${kind}`;
              const row = worst.get(key) ?? rtols.map(() => 0);
              row[rtols.indexOf(rtol)] = Math.max(row[rtols.indexOf(rtol)]!, t.comparison.minPassingAtol);
              worst.set(key, row);
              maxAbs.set(key, Math.max(maxAbs.get(key) ?? 0, t.comparison.maxAbsError));
              if (rtol === rtols.at(-1)) tensors.push({ backend: b.backend, model: result.model, kind, label: t.label, minPassingAtol: t.comparison.minPassingAtol, maxAbsError: t.comparison.maxAbsError });
            }
          }
        }
      }
    }
    seconds = Math.round((performance.now() - started) / 1000);
    console.log(`bundles: ${targets.length}${values.bundles ? '' : ` (${PROBES.map((p) => p.name).join(', ')}; batch size ${batchSize})`}; backends: ${backends.join(', ')}; ${seconds} s`);
  } finally {
    await browser?.close();
    await rm(tmp, { recursive: true, force: true });
  }
  console.log(['backend', 'kind', 'max abs err', ...rtols.map((r) => `atol@rtol=${r}`)].join('\t'));
  for (const [key, row] of [...worst].sort()) {
    console.log([key, maxAbs.get(key)!.toExponential(1), ...row.map((v) => v.toExponential(1))].join('\t'));
  }
  console.log(`\nworst tensors at rtol ${rtols.at(-1)} (smallest passing atol):`);
  for (const t of tensors.sort((a, b) => b.minPassingAtol - a.minPassingAtol).slice(0, Number(values.top) || 15)) {
    console.log([t.backend, t.model, t.kind, t.label, t.minPassingAtol.toExponential(2), `max abs ${t.maxAbsError.toExponential(2)}`].join('\t'));
  }
  if (failed.length > 0) console.log(`\ncould not run (${failed.length}):\n${failed.join('\n')}`);
  // Every tensor's figures at the last rtol, for a closer look (which layers a backend gets wrong).
  if (values.json) await writeFile(values.json, JSON.stringify({ backends, rtol: rtols.at(-1), seconds, tensors, failed }, null, 1) + '\n');
}

/** Exports the probe models (PROBES) with 3 training steps into `tmp`. */
async function exportProbes(tmp: string, batchSize: number): Promise<string[]> {
  const dirs: string[] = [];
  for (const probe of PROBES) {
    const dir = path.join(tmp, probe.name);
    await exportWithPython({
      out: dir,
      factory: probe.factory,
      paths: [path.join(ROOT, 'fixtures', 'seed'), path.join(ROOT, 'fixtures', 'models')],
      batchSize,
      trainSteps: TRAIN_STEPS,
    });
    dirs.push(dir);
  }
  return dirs;
}

/** `dir` if it is a bundle, else the bundles below it, sorted. */
function bundlesUnder(dir: string): string[] {
  if (existsSync(path.join(dir, 'manifest.json'))) return [path.resolve(dir)];
  return readdirSync(dir)
    .sort()
    .map((name) => path.join(dir, name))
    .filter((p) => statSync(p).isDirectory())
    .flatMap(bundlesUnder);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
