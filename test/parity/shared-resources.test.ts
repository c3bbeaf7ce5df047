import assert from 'node:assert/strict';
import { SharedResources } from '../../src/parity/modes/shared-resources.js';

// The native-graph parity modes share one SavedModel session through this (shared-native-graph.ts).
describe('SharedResources: loaded once per evaluation, disposed after the last mode', () => {
  it('loads a key once for every mode that asks, and disposes it once, at the end', async () => {
    const shared = new SharedResources();
    let loads = 0;
    const disposed: string[] = [];
    const load = async () => `graph ${++loads}`;
    const first = await shared.get('native-graph:/b', load, (v) => disposed.push(v));
    const second = await shared.get('native-graph:/b', load, (v) => disposed.push(v));
    const other = await shared.get('native-graph:/c', load, (v) => disposed.push(v));
    assert.equal(first, 'graph 1');
    assert.equal(second, 'graph 1');
    assert.equal(other, 'graph 2');
    assert.deepEqual(disposed, []);
    await shared.disposeAll();
    assert.deepEqual(disposed, ['graph 1', 'graph 2']);
    await shared.disposeAll();
    assert.equal(disposed.length, 2, 'nothing disposed twice');
  });

  it('a load that failed fails every mode that asks, and has nothing to dispose', async () => {
    const shared = new SharedResources();
    const disposed: unknown[] = [];
    let loads = 0;
    const failing = async (): Promise<string> => {
      loads++;
      throw new Error('saved_model.pb: truncated');
    };
    await assert.rejects(shared.get('k', failing, (v) => disposed.push(v)), /truncated/);
    await assert.rejects(shared.get('k', failing, (v) => disposed.push(v)), /truncated/);
    assert.equal(loads, 1);
    await shared.disposeAll();
    assert.deepEqual(disposed, []);
  });
});
