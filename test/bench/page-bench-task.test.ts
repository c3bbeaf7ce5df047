import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendBench } from '../../src/bench/bench-results.js';
import { finishedBatches } from '../../src/bench/partial-results.js';
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
});
