/**
 * `npm run bench`: speed and memory of converted models on each tfjs backend, side by side with
 * Keras in the same run, reported as ratios (tfjs time / Keras time; < 1 means tfjs is faster).
 *
 *   node dist/scripts/bench.js [--batch-size 64] [--repeats 20]
 *
 * Each model is exported from Keras (fixtures/seed, fixtures/models), converted, and timed:
 * forward = predict on one batch; gradient = one tf.variableGrads pass of sum(outputs) with
 * respect to the inputs and trainable weights. Medians after one warm-up run. Memory: peak
 * tensor bytes of one gradient pass (tf.profile) and the process's peak RSS growth.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { execa } from 'execa';
import { probeBackend, useBackend, type NodeBackendName } from '../src/backends/index.js';
import { convertKerasModel, toModelArtifacts } from '../src/convert/convert-model.js';
import { weightsFromBundle } from '../src/convert/weight-source.js';
import { loadBundle } from '../src/keras/bundle.js';
import '../src/layers/seed/index.js';
import { exportWithPython, resolvePython } from '../src/python-export/python-exporter.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON_PATHS = [path.join(ROOT, 'fixtures', 'seed'), path.join(ROOT, 'fixtures', 'models')];
const MODELS = {
  swish: 'seed_models:swish_model',
  temporal: 'seed_models:temporal_model',
  risk: 'seed_models:risk_model',
  deep_mlp: 'tolerance_probe:deep_mlp',
};

interface KerasFigures {
  forward_ms: number;
  gradient_ms: number | null;
  gradient_note: string | null;
  rss_growth_mb: number;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function medianMs(fn: () => Promise<void>, repeats: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function timeTfjs(model: tf.LayersModel, batchSize: number, repeats: number) {
  const inputs = model.inputs.map((t) => tf.randomNormal([batchSize, ...(t.shape.slice(1) as number[])]));
  const args = inputs.length === 1 ? inputs[0]! : inputs;
  const forwardMs = await medianMs(async () => {
    const out = model.predict(args) as tf.Tensor | tf.Tensor[];
    await (Array.isArray(out) ? out[0]! : out).data();
    tf.dispose(out);
  }, repeats);
  const variables = [...inputs.map((x) => tf.variable(x)), ...model.trainableWeights.map((w) => w.read() as tf.Variable)];
  const gradientPass = async () => {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(variables.length > 0 && inputs.length === 1 ? variables[0]! : variables.slice(0, inputs.length), { training: false }) as tf.Tensor | tf.Tensor[];
      return tf.addN((Array.isArray(out) ? out : [out]).map((o) => tf.sum(o))) as tf.Scalar;
    }, variables);
    await Object.values(grads)[0]!.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const gradientMs = await medianMs(gradientPass, repeats);
  const profile = await tf.profile(gradientPass);
  tf.dispose([...inputs, ...variables.slice(0, inputs.length)]);
  return { forwardMs, gradientMs, peakMb: profile.peakBytes / 2 ** 20 };
}

async function main(): Promise<void> {
  tf.enableProdMode();
  const batchSize = flag('batch-size', 64);
  const repeats = flag('repeats', 20);
  const backends: NodeBackendName[] = [];
  for (const b of ['cpu', 'wasm', 'tensorflow'] as const) if ((await probeBackend(b)).available) backends.push(b);
  console.log(`keras-bridge bench: batch size ${batchSize}, median of ${repeats} runs; backends ${backends.join(', ')}`);
  const keras = await execa(resolvePython(), [
    path.join(ROOT, 'scripts', 'bench_keras.py'),
    ...PYTHON_PATHS.flatMap((p) => ['--path', p]),
    '--batch-size', String(batchSize), '--repeats', String(repeats),
    ...Object.values(MODELS),
  ], { env: { TF_CPP_MIN_LOG_LEVEL: '3' } });
  const kerasFigures = JSON.parse(String(keras.stdout).trim().split('\n').pop()!) as Record<string, KerasFigures>;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-bench-'));
  const rows: string[][] = [];
  try {
    for (const [name, factory] of Object.entries(MODELS)) {
      const k = kerasFigures[factory]!;
      rows.push([name, 'keras', k.forward_ms.toFixed(2), '1.00', k.gradient_ms?.toFixed(2) ?? 'n/a', k.gradient_ms ? '1.00' : 'n/a', '-', `${k.rss_growth_mb.toFixed(0)}`]);
      const dir = path.join(tmp, name);
      await exportWithPython({ out: dir, factory, paths: PYTHON_PATHS, batchSize: 2 });
      const bundle = await loadBundle(dir);
      const artifacts = toModelArtifacts(await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), dir));
      for (const backend of backends) {
        await useBackend(backend);
        const rssBefore = process.memoryUsage().rss;
        const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
        const t = await timeTfjs(model, batchSize, repeats);
        model.dispose();
        const rssGrowth = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
        rows.push([
          name, backend, t.forwardMs.toFixed(2), (t.forwardMs / k.forward_ms).toFixed(2),
          t.gradientMs.toFixed(2), k.gradient_ms ? (t.gradientMs / k.gradient_ms).toFixed(2) : 'n/a (Keras cannot)',
          t.peakMb.toFixed(2), rssGrowth.toFixed(0),
        ]);
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const header = ['model', 'runtime', 'forward ms', 'vs keras', 'gradient ms', 'vs keras', 'peak tensor MB', 'rss growth MB'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log('ratios: tfjs time / Keras time in this run (< 1: tfjs faster). Keras forward is an eager model(x) call.');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
