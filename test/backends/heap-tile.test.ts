import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { assertWasmMatchesCpu, generator, type HeapDtype } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

interface TileCase {
  shape: number[];
  reps: number[];
  dtype: HeapDtype;
}

/** Random tiles of ranks 0 to 5: axes of length 1 (broadcasts) and longer, repeated 1 to 3 times or not at all, now and then an empty axis. */
function cases(count: number): TileCase[] {
  const pick = generator(1204);
  return Array.from({ length: count }, (_, k) => {
    const rank = k % 6;
    const shape = Array.from({ length: rank }, () => (pick(12) === 0 ? 0 : pick(3) === 0 ? 1 : 1 + pick(4)));
    const reps = shape.map(() => (pick(20) === 0 ? 0 : 1 + pick(3)));
    const dtype = (['float32', 'int32', 'bool'] as const)[k % 3]!;
    return { shape, reps, dtype };
  });
}

// wasm's Tile (KERNEL_FIXES.wasm, heap-tile.ts) copies blocks within wasm's heap.
describe('wasm: Tile by copies in the heap (src/backends/kernel-fixes/heap-tile.ts)', function () {
  onWasm({ activate: false });

  it('300 random tiles of ranks 0 to 5, float32, int32 and bool, equal cpu\'s, element for element', async () => {
    await assertWasmMatchesCpu(cases(300), (x, c) => tf.tile(x, c.reps), (c) => c.shape.map((d, i) => d * c.reps[i]!), useBackend);
  });

  it('broadcastTo and where, which tfjs-core runs through Tile, give cpu\'s values', async () => {
    const run = () => tf.tidy(() => {
      const column = tf.tensor([[1.5], [-2], [0.25]]);
      const mask = tf.tensor([[true, false, true, false]], [1, 4], 'bool');
      return [tf.broadcastTo(column, [2, 3, 4]), tf.where(mask, tf.broadcastTo(column, [3, 4]), tf.scalar(-1))].map((t) => Array.from(t.dataSync()));
    });
    await useBackend('cpu');
    const expected = run();
    await useBackend('wasm');
    assert.deepEqual(run(), expected);
  });
});
