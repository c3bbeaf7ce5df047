import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendBench } from '../../src/bench/bench-results.js';
import type { PageBenchOptions } from '../../src/bench/page-bench-task.js';
import { finishedBatches } from '../../src/bench/partial-results.js';
import type { PartnerReply, PartnerRequest } from '../../src/bench/partner-reference.js';
import { BrowserSession } from '../../src/browser/browser-session.js';
import { convertBundle } from '../../src/convert/convert-bundle.js';
import { loadBundle } from '../../src/keras/bundle.js';
import { writeModelDirectory } from '../../src/tfjs-io/model-directory.js';
import { probeBackend } from '../../src/backends/index.js';
import { fixtureBundle } from '../support/paths.js';

// A Chromium bench cell reports each pass as it ends, as a Node worker does, so that a page
// stopped at the cell's time limit keeps the passes it finished (scripts/bench.ts, browserBench).
describe('the bench in a Chromium page (src/bench/page-bench-task.ts)', function () {
  this.timeout(300_000);
  let tmp: string;
  before(async function () {
    if (!(await probeBackend('chromium-wasm')).available) this.skip();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'kb-page-bench-'));
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("logs a BATCH line per pass that, read back as after a timeout, gives the page's own figures", async () => {
    const modelDir = path.join(tmp, 'deep');
    await writeModelDirectory(modelDir, await convertBundle(await loadBundle(fixtureBundle('deep'))));
    const session = new BrowserSession([]);
    const lines: string[] = [];
    try {
      const task = { module: '/dist/src/bench/page-bench-task.js', name: 'benchInPage', args: { batchSizes: [1, 4], repeats: 1, budgetS: 30 } };
      const result = await session.runTask<BackendBench>(modelDir, 'chromium-wasm', task, 'timing deep', { timeoutS: 240, onConsole: (line) => lines.push(line) });
      assert.deepEqual(Object.keys(result.batches).sort(), ['1', '4']);
      for (const { forward, backward } of Object.values(result.batches)) assert.ok('runs' in forward && 'runs' in backward, JSON.stringify(result.batches));
      // Two lines per batch: its forward pass alone, then both.
      assert.equal(lines.filter((l) => l.startsWith('BATCH ')).length, 4);
      assert.deepEqual(finishedBatches(lines, [1, 4], 'unused'), result.batches);
    } finally {
      await session.close();
    }
  });

  it("alternates the page's passes with runs of a function this process exposes to it (the bench's Keras partner)", async () => {
    const modelDir = path.join(tmp, 'deep-alongside');
    await writeModelDirectory(modelDir, await convertBundle(await loadBundle(fixtureBundle('deep'))));
    const session = new BrowserSession([]);
    const asked: PartnerRequest[] = [];
    const fakeKeras = async (request: unknown): Promise<PartnerReply> => {
      const r = request as PartnerRequest;
      asked.push(r);
      if (r.way === 'function_backward') return { error: 'Keras cannot run this: LookupError: No gradient defined' };
      return r.op === 'warm' ? { runs: 1 } : { times_ms: Array.from({ length: r.runs }, () => 0.25) };
    };
    try {
      const args: PageBenchOptions = { batchSizes: [2], repeats: 3, budgetS: 30, warmupS: 0, minTimeS: 0, alongsideKeras: 'fakeKeras' };
      const result = await session.runTask<BackendBench>(modelDir, 'chromium-wasm', { module: '/dist/src/bench/page-bench-task.js', name: 'benchInPage', args }, 'timing deep', { timeoutS: 240, exposed: { fakeKeras } });
      const figures = result.batches['2']!;
      assert.deepEqual(figures.kerasAlongside, { forward: { medianMs: 0.25, p10Ms: 0.25, p90Ms: 0.25, runs: 3 }, backward: { skipped: 'Keras cannot run this: LookupError: No gradient defined' } });
      assert.ok('runs' in figures.forward && figures.forward.runs === 3 && 'runs' in figures.backward, JSON.stringify(figures));
      assert.deepEqual(asked.map((r) => `${r.op} ${r.batch} ${r.way}`), ['warm 2 function_forward', 'run 2 function_forward', 'run 2 function_forward', 'run 2 function_forward', 'warm 2 function_backward']);
    } finally {
      await session.close();
    }
  });
});
