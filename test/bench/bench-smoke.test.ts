import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { BenchResults } from '../../src/bench/bench-results.js';
import { formatBenchTable } from '../../src/bench/bench-table.js';
import { writePerformanceDocs } from '../../src/bench/performance-doc.js';
import { readNativeBuildStatus } from '../../src/backends/native-build-status.js';
import { requestedWasmThreads } from '../../src/backends/wasm-threads/thread-count.js';
import { productMultiplyAdd } from '../../src/backends/wasm-simd/relaxed-simd.js';
import { REPO_ROOT } from '../support/paths.js';

// `npm run bench -- --smoke`: one run of every stage (Keras's four timings, each backend's forward
// and forward + backward in its worker or Chromium page, convert from .keras and from the bundle, a full parity run,
// the conversion scaling's smallest synthetic model)
// on the seed models. Timings are printed, never asserted: what is asserted is that every stage ran
// or says why not, and that the timed runs leak no tensor.
describe('npm run bench -- --smoke', function () {
  this.timeout(900_000);
  let tmp: string;
  let run: BenchResults;
  let stdout: string;
  let stderr: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-bench-'));
    const out = path.join(tmp, 'smoke.json');
    const r = await execa('node', [path.join(REPO_ROOT, 'dist', 'scripts', 'bench.js'), '--smoke', '--backends', 'cpu,wasm,chromium-wasm', '--out', out], { cwd: REPO_ROOT, reject: false });
    assert.equal(r.exitCode, 0, String(r.stderr));
    stdout = String(r.stdout);
    stderr = String(r.stderr);
    run = JSON.parse(await readFile(out, 'utf8')) as BenchResults;
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  it("records what the tensorflow backend's binding was built with and how the wasm products multiply and add, and prints both in the header", () => {
    assert.equal(run.machine.wasmProducts, productMultiplyAdd() === 'fused' ? 'fused multiply-add' : 'separate multiply and add');
    const native = readNativeBuildStatus();
    if (native?.ok) {
      const released = native.releaseArrays ? 'reads released when dropped' : 'reads collected by V8';
      assert.equal(run.machine.tensorflowBinding, `${native.zeroCopyReads ? 'zero-copy reads' : 'copying reads'}, ${native.listAttributes ? 'fused kernels' : 'no fused kernels'}, ${released}`);
      assert.match(stdout.split('\n').find((l) => l.startsWith('keras-bridge bench, '))!, new RegExp(`; tensorflow binding: ${run.machine.tensorflowBinding}; wasm products: ${run.machine.wasmProducts}$`));
    } else {
      assert.equal(run.machine.tensorflowBinding, null);
    }
  });

  it('times Keras (tf.function and eager) and each backend (Node, and Chromium pages) on the seed models, or says why not', () => {
    assert.deepEqual(run.models.map((m) => m.name), ['swish', 'temporal', 'risk']);
    for (const m of run.models) {
      for (const way of ['function_forward', 'function_backward', 'eager_forward', 'eager_backward'] as const) {
        const t = m.keras['2']![way];
        assert.ok('medianMs' in t ? t.runs >= 1 && t.medianMs > 0 : t.skipped.startsWith('Keras cannot run this'), `${m.name} keras ${way}: ${JSON.stringify(t)}`);
      }
      for (const backend of ['cpu', 'wasm', 'chromium-wasm']) {
        const figures = m.backends[backend]!;
        assert.ok(!('skipped' in figures), `${m.name} on ${backend}: ${JSON.stringify(figures)}`);
        for (const pass of ['forward', 'backward'] as const) assert.ok('medianMs' in figures.batches['2']![pass], `${m.name} ${backend} ${pass}`);
      }
    }
    // risk's layer is tf.py_function over NumPy: Keras cannot differentiate it, tfjs can.
    const risk = run.models.find((m) => m.name === 'risk')!;
    assert.ok('skipped' in risk.keras['2']!.eager_backward);
  });

  it("alternates each cell's passes (Node and Chromium pages) with Keras's tf.function runs, and takes its ratios to those", () => {
    for (const m of run.models) {
      for (const backend of ['cpu', 'wasm', 'chromium-wasm']) {
        const figures = m.backends[backend]!;
        assert.ok(!('skipped' in figures));
        for (const pass of ['forward', 'backward'] as const) {
          const keras = figures.batches['2']!.kerasAlongside?.[pass];
          const kerasRan = 'medianMs' in m.keras['2']![pass === 'forward' ? 'function_forward' : 'function_backward'];
          assert.ok(keras && (kerasRan ? 'medianMs' in keras : 'skipped' in keras && keras.skipped.startsWith('Keras cannot run this')), `${m.name} ${backend} ${pass}: ${JSON.stringify(keras)}`);
        }
      }
    }
    const swishWasm = stdout.split('\n').find((l) => /^swish\s+2\s+wasm\s/.test(l))!;
    assert.match(swishWasm, /\d\.\d\dx of \d/, swishWasm);
  });

  it("times Keras for each model just before that model's cells, not all models at the start", () => {
    const lines = stderr.split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    run.models.forEach((m, i) => {
      const kerasStart = at(`${m.name}: timing Keras`);
      const kerasLine = at(`  keras ${m.factory} batch 2:`);
      const cells = at(`${m.name}: ${m.parameters} parameters`);
      assert.ok(kerasStart >= 0 && kerasStart < kerasLine && kerasLine < cells, `${m.name}: ${kerasStart}, ${kerasLine}, ${cells}`);
      if (i > 0) assert.ok(at(`${run.models[i - 1]!.name}: ${run.models[i - 1]!.parameters} parameters`) < kerasStart, `${m.name}'s Keras after the previous model's cells`);
    });
  });

  it("measures wasm's multiply-add peak on the wasm threads, counts each model's products, and prints them against it", () => {
    const peak = run.machine.wasmFmaPeak!;
    assert.equal(peak.threads, requestedWasmThreads());
    assert.equal(peak.perThreadGmacs.length, peak.threads);
    assert.ok(peak.perThreadGmacs.every((g) => g > 0));
    // The swish model: Dense 10 → 64 and 64 → 1 per example, at batch 2 (fixtures/seed/seed_models.py).
    assert.deepEqual(run.models.find((m) => m.name === 'swish')!.forwardProductMacs, { '2': 2 * (10 * 64 + 64 * 1) });
    // Counted on one cell and kept with the model, not the cell.
    for (const m of run.models) for (const f of Object.values(m.backends)) assert.ok(!('forwardProductMacs' in f), m.name);
    assert.match(stdout, /^products against the machine \(wasm's 128-bit SIMD peak: /m);
    assert.match(stdout, /^swish +2 +1\.41 K +\d+\.\d +\d+\.\d +[\d.e-]+ +\d+\.\d\dx$/m);
  });

  it('leaks no tensor over the repeated timed runs on any backend', () => {
    for (const m of run.models) for (const [backend, f] of Object.entries(m.backends)) if (!('skipped' in f)) assert.equal(f.leakedTensors, 0, `${m.name} on ${backend}`);
    // Every cell ran whole: a worker that failed partway would leave null here.
    for (const m of run.models) for (const f of Object.values(m.backends)) assert.ok(!('skipped' in f) && f.loadMs !== null);
  });

  it('converts from the .keras file and from the bundle, and runs parity on each backend', () => {
    for (const m of run.models) {
      assert.deepEqual(m.conversion.map((c) => c.from), ['.keras', 'bundle'], m.name);
      // Each conversion's work is taken past a baseline run just before it (summarizePairs).
      for (const c of m.conversion) assert.ok(c.baselineWallS! > 0 && c.workS !== undefined && c.weightMbPerS > 0, `${m.name} from ${c.from}: ${JSON.stringify(c)}`);
      assert.deepEqual(m.parity.map((p) => [p.backend, p.exitCode, p.note]), [['cpu', 0, null], ['wasm', 0, null]], m.name);
      for (const p of m.parity) assert.ok(p.tensors! > 0 && p.wallS! > 0);
    }
  });

  it("times the conversion scaling's smallest synthetic model next to a copy of its file", () => {
    const [scaling] = run.conversionScaling ?? [];
    assert.equal(scaling?.model, 'dense_stack_8mb');
    assert.ok(scaling!.weightBytes > 8e6 && scaling!.weightBytes < 8.5e6, String(scaling!.weightBytes));
    assert.ok(scaling!.fileBytes > scaling!.weightBytes && scaling!.wallS > 0 && scaling!.copyWallS > 0 && scaling!.peakRssMb > 0);
    assert.match(stdout, /^dense_stack_8mb +8 +\d+\.\d\d +\d+ +\d+ +\d+\.\d\dx/m);
  });

  it('prints the table with ratios to tf.function, and rewrites the docs section and chart', async () => {
    assert.equal(stdout.trim(), formatBenchTable(run));
    assert.match(stdout, /^swish +2 +wasm +\S+ \(\d+ run\) +\d+\.\d\dx/m);
    const docs = path.join(tmp, 'docs');
    await mkdir(docs);
    await copyFile(path.join(REPO_ROOT, 'docs', 'performance.md'), path.join(docs, 'performance.md'));
    await writePerformanceDocs(run, docs);
    const md = await readFile(path.join(docs, 'performance.md'), 'utf8');
    assert.match(md, /\| swish \| 2 \| wasm \| .* \|/);
    assert.match(md, /\| dense_stack_8mb \| 8 \| /);
    assert.match(md, /!\[ratio to Keras tf\.function.*\]\(performance\.svg\)/);
    const svg = await readFile(path.join(docs, 'performance.svg'), 'utf8');
    assert.match(svg, /^<svg [^>]*>[\s\S]*<title>swish b2 wasm forward: \d+\.\d\dx<\/title>[\s\S]*<\/svg>\n$/);
    // A docs file without the generated section's markers is refused, not overwritten.
    await writeFile(path.join(docs, 'performance.md'), '# nothing generated here\n');
    await assert.rejects(writePerformanceDocs(run, docs), /no '<!-- bench:start/);
  });
});
