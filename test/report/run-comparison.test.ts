import assert from 'node:assert/strict';
import path from 'node:path';
import { loadParityResults } from '../../src/parity/load-results.js';
import type { ParityRun } from '../../src/parity/parity-result.js';
import { formatRunComparison } from '../../src/report/run-comparison.js';
import { REPO_ROOT } from '../support/paths.js';

const NAMES = { baseline: 'before.json', current: 'after.json' };

describe('comparing two saved runs', () => {
  let baseline: ParityRun;
  before(async () => {
    // swish fails (faulty Swish), dilated_conv is incomplete, both on cpu.
    baseline = await loadParityResults(path.join(REPO_ROOT, 'fixtures', 'results', 'parity-v1.json'));
  });

  it('says nothing changed for the same run', () => {
    const text = formatRunComparison(baseline, baseline, NAMES, false);
    assert.equal(text.split('\n')[0], 'changes from before.json to after.json:');
    assert.match(text, /^ {2}swish on cpu: fail; worst error\/tolerance (\S+) -> \1$/m);
    assert.match(text, /^ {2}dilated_conv on cpu: incomplete; worst error\/tolerance (\S+) -> \1$/m);
    assert.match(text, /\ncompare: 2 model × backend pairs; no outcome changed$/);
  });

  it('names a tensor that now fails, marks the worse outcome red, and lists a backend in one run only', () => {
    const current = structuredClone(baseline);
    const dilated = current.models[1]!.backends[0]!;
    const tensor = dilated.isolated.tensors[0]!;
    tensor.comparison = { ...tensor.comparison, passed: false, maxToleranceRatio: 40 };
    dilated.outcome = 'fail';
    current.models[1]!.backends.push({ ...structuredClone(dilated), backend: 'wasm' });
    const text = formatRunComparison(baseline, current, NAMES, true);
    const line = `  dilated_conv on cpu: incomplete -> fail; worst error/tolerance 1.0e-3 -> 4.0e+1; now failing: ${tensor.label} [layer-alone-forward]`;
    assert.ok(text.includes(`\x1b[31m${line}\x1b[0m`), text);
    assert.match(text, /^ {2}dilated_conv on wasm: only in after\.json \(fail\)$/m);
    assert.match(text, /\ncompare: 3 model × backend pairs; 1 changed outcome \(1 worse, 0 better\); 1 in one run only$/);
  });
});
