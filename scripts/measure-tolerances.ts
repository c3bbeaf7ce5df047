/**
 * Measures float32 error between Keras and tfjs, the figures docs/tolerances.md's defaults are
 * chosen from. Exports fixtures/models/tolerance_probe.py and the seed bundles' models, runs
 * parity with zero tolerance on every backend here, and prints, per backend and tensor kind, the
 * largest absolute error and the smallest atol that passes at several rtol values. Bundles are
 * exported with 3 training steps, so the table also has training mode's tensors ("training:
 * kind") and each optimizer's trained-weight changes ("after 3 steps: implementation").
 *
 *   node dist/scripts/measure-tolerances.js [--batch-size 16]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeBackend, type BackendName } from '../src/backends/index.js';
import '../src/layers/seed/index.js';
// The training probe's custom layer (fixtures/models/training_model.py's TrainingNoise).
import '../test/support/training-noise.js';
import { checkBundleParity } from '../src/parity/check-parity.js';
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

async function main(): Promise<void> {
  tf.enableProdMode();
  const batchSize = Number(process.argv[process.argv.indexOf('--batch-size') + 1] ?? 16) || 16;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-tolerances-'));
  const backends: BackendName[] = [];
  for (const b of ['cpu', 'wasm', 'tensorflow'] as const) if ((await probeBackend(b)).available) backends.push(b);
  // worst[backend][kind][rtol] = smallest atol passing every element at that rtol
  const worst = new Map<string, number[]>();
  const maxAbs = new Map<string, number>();
  try {
    for (const probe of PROBES) {
      const dir = path.join(tmp, probe.name);
      await exportWithPython({
        out: dir,
        factory: probe.factory,
        paths: [path.join(ROOT, 'fixtures', 'seed'), path.join(ROOT, 'fixtures', 'models')],
        batchSize,
        trainSteps: TRAIN_STEPS,
      });
      for (const rtol of RTOLS) {
        const result = await checkBundleParity(dir, { backends, tolerance: { atol: 0, rtol } });
        for (const b of result.backends) {
          const kinds = [
            ...b.tensors.map((t) => ({ t, kind: t.kind as string })),
            ...(b.training?.tensors ?? []).map((t) => ({ t, kind: `training: ${t.kind}` })),
            ...(b.afterTraining?.optimizers ?? []).flatMap((o) => o.tensors.map((t) => ({ t, kind: `after ${TRAIN_STEPS} steps: ${o.implementation}` }))),
          ];
          for (const { t, kind } of kinds) {
            const key = `${b.backend}\t${kind}`;
            const row = worst.get(key) ?? RTOLS.map(() => 0);
            row[RTOLS.indexOf(rtol)] = Math.max(row[RTOLS.indexOf(rtol)]!, t.comparison.minPassingAtol);
            worst.set(key, row);
            maxAbs.set(key, Math.max(maxAbs.get(key) ?? 0, t.comparison.maxAbsError));
          }
        }
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  console.log(`models: ${PROBES.map((p) => p.name).join(', ')}; batch size ${batchSize}`);
  console.log(['backend', 'kind', 'max abs err', ...RTOLS.map((r) => `atol@rtol=${r}`)].join('\t'));
  for (const [key, row] of [...worst].sort()) {
    console.log([key, maxAbs.get(key)!.toExponential(1), ...row.map((v) => v.toExponential(1))].join('\t'));
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
