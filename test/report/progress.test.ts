import assert from 'node:assert/strict';
import { createProgress, SLOW_STAGE_S } from '../../src/report/progress.js';

/** A stream that keeps what is written; a terminal or not. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, write: (chunk: string) => chunks.push(chunk) > 0, text: () => chunks.join('') } as unknown as NodeJS.WriteStream & { text: () => string };
}

describe('progress of a long run (report/progress.ts)', () => {
  let savedCi: string | undefined;
  before(() => {
    savedCi = process.env['CI'];
    delete process.env['CI'];
  });
  after(() => {
    if (savedCi !== undefined) process.env['CI'] = savedCi;
  });

  it('logs a line per step, and a stage only once it has taken SLOW_STAGE_S or more', () => {
    let clock = 0;
    const out = stream(false);
    const progress = createProgress(2, out, 'parity', () => clock);
    progress.step('resnet50 on tensorflow');
    progress.stage('end-to-end');
    clock += 1_000; // 1 s: quiet
    progress.stage('native-graph');
    clock += (SLOW_STAGE_S + 1.2) * 1_000;
    progress.stage('comparing with the goldens');
    clock += 9_500;
    progress.step('resnet50 on wasm'); // ends the comparison: 9.5 s
    progress.stage('end-to-end');
    clock += 100;
    progress.done();
    assert.equal(
      out.text(),
      [
        'parity: [1/2] resnet50 on tensorflow',
        `parity: [1/2] resnet50 on tensorflow: native-graph took ${(SLOW_STAGE_S + 1.2).toFixed(1)} s`,
        'parity: [1/2] resnet50 on tensorflow: comparing with the goldens took 9.5 s',
        'parity: [2/2] resnet50 on wasm',
        '',
      ].join('\n'),
    );
  });

  it('names the running stage on the bar of a terminal, one line in all', () => {
    const out = stream(true);
    const progress = createProgress(1, out, 'parity', () => 0);
    progress.step('swish on cpu');
    progress.stage('training');
    progress.done();
    const text = out.text();
    assert.match(text, /1\/1 swish on cpu: training/);
    assert.equal(text.split('\n').length, 2, JSON.stringify(text)); // the final line only
    assert.ok(text.endsWith('parity: 1/1 done\n'));
  });
});
