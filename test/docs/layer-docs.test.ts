import assert from 'node:assert/strict';
import { execa } from 'execa';
import { REPO_ROOT } from '../support/paths.js';

describe('docs/layers.md', () => {
  it('is what the translator registry generates (run node dist/scripts/generate-layer-docs.js if not)', async () => {
    // A fresh process, so that tfjs's own classes are told apart from ours before any are registered.
    const r = await execa('node', ['dist/scripts/generate-layer-docs.js', '--check'], { cwd: REPO_ROOT, reject: false });
    assert.equal(r.exitCode, 0, String(r.stderr));
  });
});
