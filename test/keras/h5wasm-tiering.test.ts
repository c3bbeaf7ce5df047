import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processSetsWasmTieringBudget } from '../../src/keras/keras-file/h5wasm-tiering.js';
import { HDF5_READER_VARIABLE } from '../../src/keras/keras-file/hdf5-tasks.js';
import { REPO_ROOT } from '../support/paths.js';

// h5wasm-tiering.ts: the HDF5 reader's WebAssembly instance tiers up only after 1000 times V8's budget.
describe("the HDF5 reader's tier-up budget", () => {
  it('is left alone where the process was started with its own', () => {
    assert.equal(processSetsWasmTieringBudget([], ''), false);
    assert.equal(processSetsWasmTieringBudget(['--wasm-tiering-budget=5'], ''), true);
    assert.equal(processSetsWasmTieringBudget(['--wasm_tiering_budget', '5'], ''), true);
    assert.equal(processSetsWasmTieringBudget([], '--max-old-space-size=512 --wasm-tiering-budget=7'), true);
    assert.equal(processSetsWasmTieringBudget(['--wasm-tiering-budget-other=1', '--max-old-space-size=512'], '--trace-wasm'), false);
  });

  it("keeps HDF5's functions in the baseline compiler through many reads, where V8's own budget optimizes them", function () {
    this.timeout(120_000);
    // One process opens a model file and reads all its weights 40 times, in one reader thread;
    // V8 prints each function TurboFan compiles. No other WebAssembly runs in it.
    const readModelFile = fileURLToPath(new URL('../../src/keras/keras-file/read-model-file.js', import.meta.url));
    const fixture = path.join(REPO_ROOT, 'fixtures', 'keras', 'two_branch.keras');
    const script =
      `const { openKerasModelFile } = await import(${JSON.stringify(readModelFile)});` +
      `for (let i = 0; i < 40; i++) { const opened = await openKerasModelFile(${JSON.stringify(fixture)}); await opened.readAll(); await opened.close(); }`;
    // A file, not -e: worker threads take the process's flags, and --input-type is refused in one.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kb-tiering-'));
    const file = path.join(dir, 'read-40-times.mjs');
    writeFileSync(file, script);
    const optimized = (flags: string[]): number => {
      // h5wasm's reader: a Keras 3 file is otherwise read by the TypeScript one, which runs no WebAssembly.
      const env = { ...process.env, [HDF5_READER_VARIABLE]: 'h5wasm' };
      const out = execFileSync(process.execPath, ['--trace-wasm-compilation-times', ...flags, file], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
      return out.split('\n').filter((line) => / using TurboFan/.test(line)).length;
    };
    let atV8Default: number;
    let atReaderBudget: number;
    try {
      // With V8's default budget given explicitly, the reader leaves it: the workload is hot enough to tier up.
      atV8Default = optimized(['--wasm-tiering-budget=1800000']);
      atReaderBudget = optimized([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(atV8Default >= 20, `${atV8Default} functions optimized at V8's default budget: the workload no longer shows the difference`);
    assert.ok(atReaderBudget <= atV8Default / 10, `${atReaderBudget} functions optimized with the reader's budget, ${atV8Default} with V8's`);
  });
});
