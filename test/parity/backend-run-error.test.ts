import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const module = (p: string) => JSON.stringify(fileURLToPath(new URL(`../../src/${p}`, import.meta.url)));
const BUNDLES = ['fixtures/bundles/zoo/core/dense_no_bias_tanh', 'fixtures/bundles/zoo/core/dense_relu'];

/**
 * In a fresh process (its backend registry is its own): a backend whose Tanh kernel throws, as a
 * GPU backend's kernel throws on an input it cannot take, registered like a user's backend, then
 * one parity run over two bundles on it and on cpu; prints what the run and its reports say.
 */
function runWithRefusingBackend(): {
  outcome: string;
  backends: Array<{ model: string; backend: string; outcome: string; runError?: string; tensors: number }>;
  table: string;
  junit: string;
  reloaded: Array<string | null>;
} {
  const script = `
    import * as tf from '@tensorflow/tfjs';
    const b = await import(${module('backends/index.js')});
    const { runParity } = await import(${module('parity/run-parity.js')});
    const { formatParityTable } = await import(${module('report/parity-table.js')});
    const { formatJUnit } = await import(${module('report/junit-report.js')});
    const { parseParityResults } = await import(${module('parity/load-results.js')});
    const name = 'cpu-refusing-tanh';
    b.registerBackendDescriptor({
      ...b.backendDescriptor('cpu'), name, tfjsBackend: name, kernelFixes: null,
      description: 'cpu, with a Tanh kernel that throws',
      register: async () => {
        if (tf.findBackendFactory(name)) return;
        const Cpu = tf.engine().findBackend('cpu').constructor;
        for (const k of tf.getKernelsForBackend('cpu')) if (k.kernelName !== 'Tanh') tf.registerKernel({ ...k, backendName: name });
        tf.registerKernel({ kernelName: 'Tanh', backendName: name, kernelFunc: () => { throw new Error('Tanh is refused here\\n(second line)'); } });
        tf.registerBackend(name, () => new Cpu(), 0);
      },
    });
    const run = await runParity(${JSON.stringify(BUNDLES)}, { backends: [name, 'cpu'], requireAllBackends: true });
    console.log(JSON.stringify({
      outcome: run.outcome,
      backends: run.models.flatMap((m) => m.backends.map((x) => ({ model: m.model, backend: x.backend, outcome: x.outcome, runError: x.runError, tensors: x.tensors.length }))),
      table: formatParityTable(run, false),
      junit: formatJUnit(run),
      reloaded: parseParityResults(JSON.parse(JSON.stringify(run)), 'run').models.flatMap((m) => m.backends.map((x) => x.runError ?? null)),
    }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
}

describe('a backend that throws while running a model (check-parity.ts)', function () {
  let result: ReturnType<typeof runWithRefusingBackend>;
  before(function () {
    result = runWithRefusingBackend();
  });

  it('is that backend\'s failure on that model, and the run goes on to the other backends and bundles', function () {
    const by = (model: string, backend: string) => result.backends.find((x) => x.model === model && x.backend === backend)!;
    assert.equal(result.backends.length, 4);
    const refused = by('dense_no_bias_tanh', 'cpu-refusing-tanh');
    assert.equal(refused.outcome, 'fail');
    assert.equal(refused.runError, 'Tanh is refused here (second line)');
    assert.equal(refused.tensors, 0);
    assert.equal(by('dense_no_bias_tanh', 'cpu').outcome, 'pass');
    // The other bundle has no tanh: the same backend runs it.
    assert.equal(by('dense_relu', 'cpu-refusing-tanh').outcome, 'pass');
    assert.equal(by('dense_relu', 'cpu-refusing-tanh').runError, undefined);
    assert.equal(result.outcome, 'fail');
  });

  it('is reported in the table, its summary, JUnit, and saved results', function () {
    assert.match(result.table, /dense_no_bias_tanh on cpu-refusing-tanh: could not run: Tanh is refused here \(second line\); nothing compared/);
    assert.match(result.table, /parity: 0 of \d+ tensors FAIL; 1 model × backend run could not finish \(see above\)$/);
    assert.match(result.junit, /name="cpu-refusing-tanh › runs the model"[^>]*>\s*<failure message="could not run; nothing compared">/);
    assert.deepEqual(result.reloaded, ['Tanh is refused here (second line)', null, null, null]);
  });
});
