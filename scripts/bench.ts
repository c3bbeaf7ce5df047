/**
 * `npm run bench`: converted models against Keras's compiled graph, in one run on this machine.
 *
 *   node dist/scripts/bench.js [--models a,b] [--backends cpu,wasm,...] [--batch-sizes 1,32]
 *     [--repeats 10] [--budget 60] [--warmup 3] [--min-time 1] [--parity-backends LIST] [--parity-timeout 600] [--out FILE]
 *     [--conversion-sizes 64mb,256mb,1gb] [--docs] [--smoke] [--from RESULTS.json]
 *
 * For each model (src/bench/bench-models.ts): Keras times its tf.function and eager forward and
 * forward + backward (scripts/bench_keras.py); each tfjs backend times the converted model the same
 * two ways, a Node backend in a child process (src/bench/bench-worker.ts), a browser backend in a
 * Chromium page (src/bench/page-bench-task.ts); `keras-bridge convert` from the .keras file and
 * from the bundle is timed with its peak memory; `keras-bridge parity` on the bundle is timed on
 * each Node backend (--parity-backends to choose); on the tensorflow backend, the bundle's SavedModel
 * is also timed as one native graph (docs/native-graph.md), and the converted model traced into one TensorFlow graph (docs/native-graph.md, "Traced"); `keras-bridge convert` of synthetic models of
 * growing size (fixtures/models/synthetic_models.py, --conversion-sizes; 'none' for none) is timed
 * next to a plain copy of the same file, with its peak memory. Prints medians, spread and ratios to Keras's tf.function, writes the JSON
 * (default bench-results/latest.json), and with --docs rewrites docs/performance.md's table and
 * docs/performance.svg. Timings are measurements, never test assertions; the test suite runs
 * --smoke (one run of each stage on the seed models).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tf from '#tfjs';
import { execa } from 'execa';
import { KNOWN_BACKENDS, isBrowserBackend, probeBackend, readNativeBuildStatus } from '../src/backends/index.js';
import { withoutDefaultedEnvironment } from '../src/backends/environment-defaults.js';
import { BrowserSession } from '../src/browser/browser-session.js';
import { benchModels, type BenchModelSpec } from '../src/bench/bench-models.js';
import { timingOrder } from '../src/bench/cell-order.js';
import { BENCH_USAGE, parseBenchOptions, type BenchOptions } from '../src/bench/bench-options.js';
import { type BackendBench, type BenchModel, type BenchResults, type ConversionBench, type KerasWay, type ParityBench, type ScalingBench } from '../src/bench/bench-results.js';
import { conversionCells, formatBenchTable } from '../src/bench/bench-table.js';
import { finishedBatches } from '../src/bench/partial-results.js';
import { writePerformanceDocs } from '../src/bench/performance-doc.js';
import { summarizePairs, summarizeRuns, type ProcessRun, type RepeatedRuns } from '../src/bench/repeated-runs.js';
import { fromPython, type Timing } from '../src/bench/timing.js';
import { KerasPartner } from '../src/bench/keras-partner.js';
import type { WorkerRequest, WorkerResult } from '../src/bench/bench-worker.js';
import type { TimeModelOptions } from '../src/bench/time-model.js';
import type { PageBenchOptions } from '../src/bench/page-bench-task.js';
import { resolvePython } from '../src/python-export/python-exporter.js';
import { productMultiplyAdd } from '../src/backends/wasm-simd/relaxed-simd.js';
import { requestedWasmThreads } from '../src/backends/wasm-threads/thread-count.js';
import { measureWasmFmaPeak, type WasmFmaPeak } from '../src/bench/wasm-fma-peak.js';
import { cachedExport, cachedKerasFiles } from '../test/support/cached-export.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const WORKER = path.join(ROOT, 'dist', 'src', 'bench', 'bench-worker.js');

const log = (line: string) => process.stderr.write(line + '\n');

/** Keras's four timings of one model per batch size, from a Python process of its own. */
async function kerasTimings(m: BenchModelSpec, options: BenchOptions): Promise<{ parameters: number; weight_bytes: number; batches: Record<string, Record<KerasWay, Timing>> }> {
  const run = execa(
    resolvePython(),
    [
      path.join(ROOT, 'scripts', 'bench_keras.py'),
      '--path', path.dirname(m.modelsFile),
      '--batch-sizes', options.batchSizes.join(','),
      '--repeats', String(options.repeats),
      '--budget', String(options.budgetS),
      '--warmup', String(options.warmupS),
      '--min-time', String(options.minTimeS),
      m.factory,
    ],
    // Keras as the user runs it: not with the TensorFlow settings keras-bridge gave its own libtensorflow here.
    { env: { ...withoutDefaultedEnvironment(), TF_CPP_MIN_LOG_LEVEL: '3' }, stderr: 'pipe' },
  );
  run.stderr?.on('data', (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (line.startsWith('keras ')) log(`  ${line}`);
  });
  const result = await run;
  const parsed = JSON.parse(String(result.stdout).trim().split('\n').pop()!) as Record<string, { parameters: number; weight_bytes: number; batches: Record<string, Record<KerasWay, Parameters<typeof fromPython>[0]>> }>;
  const k = parsed[m.factory]!;
  return { ...k, batches: Object.fromEntries(Object.entries(k.batches).map(([b, ways]) => [b, Object.fromEntries(Object.entries(ways).map(([w, t]) => [w, fromPython(t)])) as Record<KerasWay, Timing>])) };
}

/** The name a browser cell's page calls the Keras partner by. */
const PAGE_PARTNER_FUNCTION = 'kerasBridgeAlongside';

/** Keras's side of a model on request (keras-partner.ts), or undefined where it does not start (its cells are then timed alone, and say so). */
async function startPartner(m: BenchModelSpec): Promise<KerasPartner | undefined> {
  try {
    // Keras as the user runs it: not with the TensorFlow settings keras-bridge gave its own libtensorflow here.
    return await KerasPartner.start({ python: resolvePython(), script: path.join(ROOT, 'scripts', 'bench_keras.py'), modelsFile: m.modelsFile, factory: m.factory, env: withoutDefaultedEnvironment() }, log);
  } catch (error) {
    log(`  ${m.name}: Keras alongside unavailable, its cells timed alone: ${(error as Error)?.message ?? String(error)}`);
    return undefined;
  }
}

/** Wall seconds and peak RSS (MB) of a command, by /usr/bin/time. */
async function measured(command: string[], timeoutS: number): Promise<{ wallS: number; peakRssMb: number; exitCode: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  const start = performance.now();
  const result = await execa('/usr/bin/time', ['-f', 'KB_MAXRSS=%M', ...command], { reject: false, timeout: timeoutS * 1000, env: { NO_COLOR: '1', TF_CPP_MIN_LOG_LEVEL: '3' } });
  const wallS = (performance.now() - start) / 1000;
  const rss = /KB_MAXRSS=(\d+)/.exec(String(result.stderr));
  return { wallS, peakRssMb: rss ? Number(rss[1]) / 1024 : NaN, exitCode: result.exitCode ?? null, stdout: String(result.stdout), stderr: String(result.stderr), timedOut: Boolean(result.timedOut) };
}

const customLayerFlags = (m: BenchModelSpec) => (m.customLayers ?? []).flatMap((c) => ['--custom-layers', c]);

async function conversionBench(m: BenchModelSpec, from: ConversionBench['from'], input: string, inputBytes: number, weightBytes: number, out: string, runs: number): Promise<ConversionBench | { skipped: string }> {
  const pairs: Array<{ baseline: ProcessRun; run: ProcessRun }> = [];
  for (let i = 0; i < runs; i++) {
    // Each conversion just after a process that converts nothing: the machine's speed drifts over
    // minutes, and the work is the difference of the two (summarizePairs).
    const baseline = await measured(BASELINE_COMMAND, 60);
    await rm(out, { recursive: true, force: true });
    const r = await measured(['node', CLI, 'convert', input, out, ...customLayerFlags(m)], 600);
    if (r.exitCode !== 0) return { skipped: `keras-bridge convert exited ${r.exitCode}: ${r.stderr.split('\n').find((l) => l.includes('error')) ?? ''}` };
    pairs.push({ baseline, run: r });
  }
  const conversion = summarizePairs(pairs);
  return {
    from,
    inputBytes,
    wallS: conversion.wallS,
    wallRangeS: conversion.wallRangeS,
    runs: conversion.runs,
    baselineWallS: conversion.baselineWallS,
    workS: conversion.workS,
    peakRssOverBaselineMb: conversion.peakRssOverBaselineMb,
    weightMbPerS: weightBytes / 2 ** 20 / Math.max(conversion.workS, 1e-3),
  };
}

/** "N MB/s of weights", or why there is no rate: the table's rule (conversionCells). */
function conversionRateText(c: ConversionBench, weightBytes: number): string {
  const [rate] = conversionCells(c, weightBytes);
  return rate === '-' ? 'no rate (under 1 MB of weights, or work within the baseline\'s spread)' : `${rate} MB/s of weights`;
}

/** The process that converts nothing: Node, tfjs and the converter's modules loaded (since the CLI loads only the command it runs, `keras-bridge --help` loads neither). */
const BASELINE_COMMAND = ['node', CLI, 'convert', '--help'];

/** `runs` runs of a command that converts nothing, summarized (RepeatedRuns). */
async function baselineRuns(runs: number): Promise<RepeatedRuns> {
  const done: ProcessRun[] = [];
  for (let i = 0; i < runs; i++) done.push(await measured(BASELINE_COMMAND, 60));
  return summarizeRuns(done);
}

/** `keras-bridge convert --fold-batch-norm` of the bundle into `out`; false when it folded nothing (or failed, logged). */
async function foldedConversion(m: BenchModelSpec, bundle: string, out: string): Promise<boolean> {
  await rm(out, { recursive: true, force: true });
  const r = await execa('node', [CLI, 'convert', bundle, out, '--fold-batch-norm', '--json', ...customLayerFlags(m)], { reject: false });
  if (r.exitCode !== 0) {
    log(`  convert --fold-batch-norm: exited ${r.exitCode}`);
    return false;
  }
  const rewrites = (JSON.parse(r.stdout) as { inferenceRewrites?: unknown[] }).inferenceRewrites ?? [];
  if (rewrites.length > 0) log(`  convert --fold-batch-norm: ${rewrites.length} rewrites`);
  return rewrites.length > 0;
}

/**
 * `keras-bridge convert` of each synthetic model's .keras file, and a `cp` of the same file just
 * before it: what the disk allows, in the same run (cp copies within the kernel; converting reads
 * and writes through memory). Each starts after a `sync`; their outputs are removed after each.
 */
async function conversionScaling(sizes: string[], tmp: string, baseline: { peakRssMb: number }): Promise<ScalingBench[]> {
  if (sizes.length === 0) return [];
  const modelsFile = path.join(ROOT, 'fixtures', 'models', 'synthetic_models.py');
  const factories = sizes.map((s) => `dense_stack_${s}`);
  log(`conversion scaling: ${factories.join(', ')} (saved once in .cache/bench-synthetic)`);
  const files = await cachedKerasFiles(modelsFile, factories, 'bench-synthetic');
  const runs: ScalingBench[] = [];
  for (const model of factories) {
    const file = files.get(model)!;
    const fileBytes = (await stat(file)).size;
    const copy = path.join(tmp, `${model}.copy.keras`);
    // Each starts with no dirty pages of the other's waiting to be written back.
    await execa('sync', { reject: false });
    const copied = await measured(['cp', file, copy], 600);
    await rm(copy, { force: true });
    const out = path.join(tmp, `${model}-converted`);
    await execa('sync', { reject: false });
    const r = await measured(['node', CLI, 'convert', file, out, '--json'], 900);
    if (r.exitCode !== 0) {
      log(`  ${model}: keras-bridge convert exited ${r.exitCode}: ${r.stderr.split('\n').find((l) => l.includes('error')) ?? ''}`);
      continue;
    }
    const weightBytes = (JSON.parse(r.stdout) as { weights: { bytes: number } }).weights.bytes;
    await rm(out, { recursive: true, force: true });
    const run = { model, weightBytes, fileBytes, wallS: r.wallS, peakRssMb: r.peakRssMb, baselinePeakRssMb: baseline.peakRssMb, copyWallS: copied.wallS };
    runs.push(run);
    log(`  ${model}: ${(weightBytes / 2 ** 20).toFixed(0)} MB in ${r.wallS.toFixed(2)} s (${(weightBytes / 2 ** 20 / r.wallS).toFixed(0)} MB/s; cp ${(fileBytes / 2 ** 20 / copied.wallS).toFixed(0)} MB/s), peak RSS ${r.peakRssMb.toFixed(0)} MB`);
  }
  return runs;
}

function hasSavedModel(bundle: string): boolean {
  const manifest = JSON.parse(readFileSync(path.join(bundle, 'manifest.json'), 'utf8')) as { saved_model?: { status: string } };
  return manifest.saved_model?.status === 'exported';
}

async function parityBench(m: BenchModelSpec, bundle: string, backend: string, timeoutS: number): Promise<ParityBench> {
  const r = await measured(['node', CLI, 'parity', bundle, '--backend', backend, ...customLayerFlags(m)], timeoutS);
  if (r.timedOut) return { backend, wallS: null, exitCode: null, tensors: null, note: `did not finish within ${timeoutS} s` };
  const tensors = /parity: (?:all )?(\d+) tensors|(\d+) of (\d+) tensors/.exec(r.stdout);
  const count = tensors ? Number(tensors[1] ?? tensors[3]) : null;
  return { backend, wallS: r.wallS, exitCode: r.exitCode, tensors: count, note: r.exitCode === 0 ? null : `exit ${r.exitCode}: ${r.stdout.trim().split('\n').pop() ?? ''}` };
}

async function backendBench(request: WorkerRequest, timeoutS: number, partner?: KerasPartner): Promise<BackendBench | { skipped: string }> {
  const withPartner = { ...request, ...(partner ? { alongsideKeras: true } : {}) };
  const run = execa('node', [WORKER, JSON.stringify(withPartner)], { reject: false, timeout: timeoutS * 1000, env: { TF_CPP_MIN_LOG_LEVEL: '3' }, stderr: 'pipe', ipc: true });
  run.stderr?.on('data', (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (line.startsWith('  ')) log(line);
  });
  // The worker's requests to Keras's side, answered in turn (keras-partner.ts).
  const serving = partner
    ? (async () => {
        for await (const message of run.getEachMessage()) await run.sendMessage(await partner.answer(message));
      })().catch(() => undefined)
    : undefined;
  const result = await run;
  await serving;
  const lines = String(result.stdout).trim().split('\n');
  if (!result.timedOut && result.exitCode === 0) return JSON.parse(lines.pop()!) as WorkerResult;
  const why = result.timedOut ? `did not finish within ${timeoutS} s` : `the worker failed: ${String(result.stderr).split('\n').find((l) => l.startsWith('bench worker:')) ?? `exit ${result.exitCode}`}`;
  // Keep the passes it finished; the others say why they have no figures.
  const batches = finishedBatches(lines, request.batchSizes, why);
  if (!batches) return { skipped: why };
  return { loadMs: null, batches, leakedTensors: null, peakRssMb: null };
}

/**
 * A browser backend's cell: the same timing in a Chromium page (src/bench/page-bench-task.ts), in a
 * browser session of its own, closed after the cell so that a hung page cannot hold the next.
 */
async function browserBench(m: BenchModelSpec, modelDir: string, backend: string, timing: TimeModelOptions, timeoutS: number, partner?: KerasPartner): Promise<BackendBench | { skipped: string }> {
  const session = new BrowserSession([...(m.customLayers ?? [])]);
  const lines: string[] = [];
  const logBatches = (batches: BackendBench['batches']) => {
    for (const [batch, { forward, backward }] of Object.entries(batches)) {
      for (const [pass, t] of [['forward', forward], ['backward', backward]] as const) log(`  ${backend} batch ${batch} ${pass}: ${'runs' in t ? `${t.medianMs.toFixed(1)} ms (${t.runs} runs)` : t.skipped}`);
    }
  };
  try {
    // The page asks Keras's side for its runs through a function of this process (page-bench-task.ts).
    const args: PageBenchOptions = { ...timing, ...(partner ? { alongsideKeras: PAGE_PARTNER_FUNCTION } : {}) };
    const task = { module: '/dist/src/bench/page-bench-task.js', name: 'benchInPage', args };
    const exposed = partner ? { [PAGE_PARTNER_FUNCTION]: (request: unknown) => partner.answer(request) } : undefined;
    const result = await session.runTask<BackendBench>(modelDir, backend, task, `timing ${m.name}`, { timeoutS, onConsole: (line) => lines.push(line), ...(exposed ? { exposed } : {}) });
    logBatches(result.batches);
    return result;
  } catch (e) {
    // Keep the passes the page finished before it was stopped (or failed), as for a Node worker.
    const why = (e as Error).message;
    const batches = finishedBatches(lines, timing.batchSizes, why);
    if (!batches) return { skipped: why };
    logBatches(batches);
    return { loadMs: null, batches, leakedTensors: null, peakRssMb: null };
  } finally {
    await session.close();
  }
}

async function versions(wasmFmaPeak: WasmFmaPeak | undefined): Promise<BenchResults['machine']> {
  const python = await execa(resolvePython(), ['-c', 'import keras, tensorflow as tf; print(keras.__version__, tf.__version__)'], { reject: false, env: { ...withoutDefaultedEnvironment(), TF_CPP_MIN_LOG_LEVEL: '3' } });
  const [keras, tensorflow] = python.exitCode === 0 ? String(python.stdout).trim().split(' ') : [null, null];
  const tfjs = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs', 'package.json'), 'utf8')) as { version: string }).version;
  const native = readNativeBuildStatus();
  // Whether the bench's reads are freed when dropped (withReadValues) or when V8 collects them: the tensorflow cells that read much depend on it.
  const released = native?.releaseArrays ? 'reads released when dropped' : 'reads collected by V8';
  const tensorflowBinding = native?.ok ? `${native.zeroCopyReads ? 'zero-copy reads' : 'copying reads'}, ${native.listAttributes ? 'fused kernels' : 'no fused kernels'}, ${released}` : null;
  const wasmProducts = productMultiplyAdd() === 'fused' ? 'fused multiply-add' : 'separate multiply and add';
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, tfjs, keras: keras ?? null, tensorflow: tensorflow ?? null, tensorflowBinding, wasmProducts, ...(wasmFmaPeak ? { wasmFmaPeak } : {}) };
}

async function main(): Promise<void> {
  // Probing the backends here must not print tfjs's advice banners between the progress lines.
  tf.enableProdMode();
  if (process.argv.includes('--help')) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return;
  }
  const options = parseBenchOptions(process.argv.slice(2), ROOT);
  if (options.from) {
    const saved = JSON.parse(readFileSync(options.from, 'utf8')) as BenchResults;
    if (saved.schema !== 'keras-bridge-bench') throw new Error(`bench: ${options.from} is not bench results (schema ${JSON.stringify(saved.schema)})`);
    process.stdout.write(formatBenchTable(saved) + '\n');
    if (options.docs) await writePerformanceDocs(saved, path.join(ROOT, 'docs'));
    return;
  }
  const all = benchModels(ROOT);
  const unknown = (options.models ?? []).filter((m) => !all.some((s) => s.name === m));
  if (unknown.length > 0) throw new Error(`bench: unknown model '${unknown[0]}'; the models: ${all.map((m) => m.name).join(', ')}`);
  const models = options.models ? all.filter((m) => options.models!.includes(m.name)) : all;
  const unknownBackend = (options.backends ?? []).find((b) => !KNOWN_BACKENDS.includes(b));
  if (unknownBackend) throw new Error(`bench: unknown backend '${unknownBackend}'; the backends: ${KNOWN_BACKENDS.join(', ')}`);
  const backends: string[] = [];
  for (const b of options.backends ?? KNOWN_BACKENDS) {
    const probe = await probeBackend(b);
    if (probe.available) backends.push(b);
    else log(`bench: backend ${b} unavailable (${probe.reason ?? 'no reason given'}); not timed`);
  }
  const started = performance.now();
  // What no wasm product kernel can exceed here, set against the models' products in the report (src/bench/product-ceiling.ts).
  const wasmFmaPeak = backends.some((b) => b.includes('wasm')) ? await measureWasmFmaPeak(requestedWasmThreads()) : undefined;
  if (wasmFmaPeak) log(`wasm 128-bit multiply-add peak: ${wasmFmaPeak.totalGmacs.toFixed(1)} G/s on ${wasmFmaPeak.threads} threads (${wasmFmaPeak.perThreadGmacs.map((g) => g.toFixed(1)).join(' + ')})`);
  log(`keras-bridge bench: ${models.map((m) => m.name).join(', ')}; backends ${backends.join(', ')}; batch sizes ${options.batchSizes.join(', ')}; ${options.repeats} runs or more for ${options.minTimeS} s, at most ${options.budgetS} s per timing, after ${options.warmupS} s of warm-up`);

  log('exporting bundles and .keras files (cached in .cache/bench)');
  const bundles = new Map<string, string>();
  // With the float64 reference, parity allows each golden Keras's own measured float32 error: these
  // models' kernel gradients carry up to 4e-5 (a Transformer block's), over the default 5e-6, and
  // their batch normalizations in training mode, on one image, far more (docs/tolerances.md).
  const exportOptions = { seed: 0, batchSize: 1, savedModel: true, float64Reference: true };
  for (const m of models) bundles.set(m.name, await cachedExport({ modelsFile: m.modelsFile, factory: m.factory.split(':')[1]!, cache: 'bench', options: exportOptions }));
  const kerasFiles = new Map<string, string>();
  for (const file of new Set(models.map((m) => m.modelsFile))) {
    const of = models.filter((m) => m.modelsFile === file);
    const saved = await cachedKerasFiles(file, of.map((m) => m.factory.split(':')[1]!), 'bench-keras');
    for (const m of of) kerasFiles.set(m.name, saved.get(m.factory.split(':')[1]!)!);
  }

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-bench-'));
  const results: BenchModel[] = [];
  let scaling: ScalingBench[] = [];
  try {
    // For the scaling models' memory; each model's conversions are paired with baselines of their own.
    const baseline = await baselineRuns(options.conversionRuns);
    log(`baseline (keras-bridge convert --help): ${baseline.wallS.toFixed(2)} s, median of ${baseline.runs} (${baseline.wallRangeS.map((v) => v.toFixed(2)).join('-')} s)`);
    scaling = await conversionScaling(options.conversionSizes, tmp, baseline);
    for (const m of models) {
      // Keras is timed just before the cells compared with it, not all at the start: this machine's
      // speed drifts by more than 10% over the twenty minutes the other models' cells take
      // (docs/performance.md, twenty-ninth section).
      log(`${m.name}: timing Keras (tf.function and eager)`);
      const k = await kerasTimings(m, options);
      log(`${m.name}: ${k.parameters} parameters, ${(k.weight_bytes / 2 ** 20).toFixed(1)} MB of weights`);
      const modelDir = path.join(tmp, m.name);
      const conversion: ConversionBench[] = [];
      for (const [from, input] of [['.keras', kerasFiles.get(m.name)!], ['bundle', bundles.get(m.name)!]] as const) {
        const bytes = from === '.keras' ? (await stat(input)).size : (await stat(path.join(input, 'weights.bin'))).size;
        const c = await conversionBench(m, from, input, bytes, k.weight_bytes, modelDir, options.conversionRuns);
        if ('skipped' in c) log(`  convert from ${from}: ${c.skipped}`);
        else {
          conversion.push(c);
          log(`  convert from ${from}: ${c.wallS.toFixed(2)} s (median of ${c.runs}, ${c.wallRangeS!.map((v) => v.toFixed(2)).join('-')} s), ${c.workS!.toFixed(2)} s of work past baselines of ${c.baselineWallS!.toFixed(2)} s, ${conversionRateText(c, k.weight_bytes)}, peak RSS +${c.peakRssOverBaselineMb.toFixed(0)} MB`);
        }
      }
      // The bundle's conversion is the one timed below (the last written).
      const backendFigures: BenchModel['backends'] = {};
      // Warm-up and up to `budget` per timing, two passes per batch size, and the load: bounded
      // generously; twice that with Keras's runs alternated (its own warm-up and budget per pass).
      const cellTimeoutS = 120 + (options.alongside ? 2 : 1) * (options.budgetS * 6 + (options.warmupS + options.minTimeS) * 4) * options.batchSizes.length;
      const timing = { batchSizes: options.batchSizes, repeats: options.repeats, budgetS: options.budgetS, warmupS: options.warmupS, minTimeS: options.minTimeS };
      // The wasm cell counts the forward pass's product multiply-adds: its kernels dispatch no other
      // kernel through tfjs's engine, where tfjs-node's _FusedMatMul runs tf.matMul, which tf.profile
      // then records a second time (src/bench/product-macs.ts).
      const counting = backends.includes('wasm') ? 'wasm' : undefined;
      let forwardProductMacs: Record<string, number> | undefined;
      // Keras's side, kept for this model's Node cells: their passes alternate with its tf.function's (timing.ts, timedAlternating).
      const partner = options.alongside && existsSync(modelDir) ? await startPartner(m) : undefined;
      try {
      for (const backend of timingOrder(backends)) {
        if (!existsSync(modelDir)) backendFigures[backend] = { skipped: 'conversion failed' };
        else if (isBrowserBackend(backend)) backendFigures[backend] = await browserBench(m, modelDir, backend, timing, cellTimeoutS, partner);
        else {
          const cell = await backendBench({ backend, modelDir, customLayerModules: [...(m.customLayers ?? [])], ...timing, ...(backend === counting ? { countProductMacs: true } : {}) }, cellTimeoutS, partner);
          if (!('skipped' in cell) && cell.forwardProductMacs) {
            forwardProductMacs = cell.forwardProductMacs;
            delete cell.forwardProductMacs;
            log(`  products of the forward pass: ${Object.entries(forwardProductMacs).map(([batch, macs]) => `batch ${batch} ${(macs / 1e9).toFixed(3)} G multiply-adds`).join(', ')}`);
          }
          backendFigures[backend] = cell;
        }
        // The same model as one native graph, where the bundle has its SavedModel (docs/native-graph.md).
        if (backend === 'tensorflow' && existsSync(modelDir) && hasSavedModel(bundles.get(m.name)!)) {
          backendFigures['tensorflow native graph'] = await backendBench(
            { backend, modelDir, customLayerModules: [...(m.customLayers ?? [])], nativeGraphBundle: bundles.get(m.name)!, ...timing },
            cellTimeoutS,
            partner,
          );
        }
        // The converted model traced into one TensorFlow graph (docs/native-graph.md, "Traced").
        if (backend === 'tensorflow' && existsSync(modelDir)) {
          backendFigures['tensorflow traced graph'] = await backendBench({ backend, modelDir, customLayerModules: [...(m.customLayers ?? [])], tracedGraph: true, ...timing }, cellTimeoutS, partner);
        }
      }
      // The same model converted with --fold-batch-norm, where that changes it: forward only (docs/inference-rewrites.md).
      const foldedDir = `${modelDir}-folded`;
      if (existsSync(modelDir) && (await foldedConversion(m, bundles.get(m.name)!, foldedDir))) {
        for (const backend of backends.filter((b) => !isBrowserBackend(b) && b !== 'cpu')) {
          backendFigures[`${backend} batch norm folded`] = await backendBench({ backend, modelDir: foldedDir, customLayerModules: [...(m.customLayers ?? [])], inferenceOnly: true, ...timing }, cellTimeoutS, partner);
        }
      }
      } finally {
        await partner?.close();
      }
      const parity: ParityBench[] = [];
      for (const backend of options.parityBackends ?? backends.filter((b) => !isBrowserBackend(b))) {
        const p = await parityBench(m, bundles.get(m.name)!, backend, options.parityTimeoutS);
        log(`  parity on ${backend}: ${p.wallS !== null ? `${p.wallS.toFixed(1)} s` : ''}${p.tensors !== null ? `, ${p.tensors} tensors` : ''}${p.note ? ` (${p.note})` : ''}`);
        parity.push(p);
      }
      results.push({ name: m.name, factory: m.factory, parameters: k.parameters, weightBytes: k.weight_bytes, keras: k.batches, backends: backendFigures, conversion, parity, ...(forwardProductMacs ? { forwardProductMacs } : {}) });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const run: BenchResults = {
    schema: 'keras-bridge-bench',
    schemaVersion: 1,
    date: new Date().toISOString(),
    machine: await versions(wasmFmaPeak),
    settings: { batchSizes: options.batchSizes, repeats: options.repeats, budgetS: options.budgetS, warmupS: options.warmupS, minTimeS: options.minTimeS, conversionRuns: options.conversionRuns },
    models: results,
    ...(scaling.length > 0 ? { conversionScaling: scaling } : {}),
  };
  await mkdir(path.dirname(options.out), { recursive: true });
  await writeFile(options.out, JSON.stringify(run, null, 2) + '\n');
  process.stdout.write(formatBenchTable(run) + '\n');
  log(`bench: ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${options.out}`);
  if (options.docs) {
    await writePerformanceDocs(run, path.join(ROOT, 'docs'));
    log('bench: docs/performance.md and docs/performance.svg rewritten');
  }
}

main().catch((e: unknown) => {
  console.error((e as Error)?.message ?? e);
  process.exitCode = 1;
});
