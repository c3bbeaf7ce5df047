import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { assertWasmMatchesCpu, generator, type HeapDtype } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

interface SliceCase {
  shape: number[];
  begin: number[];
  size: number[];
  dtype: HeapDtype;
}

/** Random slices of ranks 1 to 6, of whole, partial and empty extents, in every dtype the heap holds. */
function cases(count: number): SliceCase[] {
  const pick = generator(2026);
  return Array.from({ length: count }, (_, k) => {
    const rank = 1 + (k % 6);
    const shape = Array.from({ length: rank }, () => 1 + pick(5));
    const begin = shape.map((d) => pick(d));
    // Whole axes (begin 0, full size) now and then, so that runs merge across axes; an empty one rarely.
    const size = shape.map((d, i) => (pick(3) === 0 ? ((begin[i] = 0), d) : pick(9) === 0 ? 0 : 1 + pick(d - begin[i]!)));
    const dtype = (['float32', 'int32', 'bool'] as const)[k % 3]!;
    return { shape, begin, size, dtype };
  });
}

// wasm's Slice (KERNEL_FIXES.wasm, heap-slice.ts) reads the input in place in wasm's heap.
describe('wasm: Slice reads its input in place (src/backends/kernel-fixes/heap-slice.ts)', function () {
  onWasm({ activate: false });

  it('200 random slices of ranks 1 to 6, float32, int32 and bool, equal cpu\'s, element for element', async () => {
    await assertWasmMatchesCpu(cases(200), (x, c) => tf.slice(x, c.begin, c.size), (c) => c.size, useBackend);
  });

  it('a slice that makes the heap grow still reads the input (views are taken after the output is made)', async () => {
    await useBackend('wasm');
    const x = tf.range(0, 1 << 16, 1, 'float32').reshape([256, 256]);
    // Large enough to need new heap pages for the output, on a heap that already holds x.
    const big = tf.tile(x, [64, 1]);
    const [row, column] = [200 * 64 + 3, 10];
    const part = tf.slice(big, [row, column], [2 * 64, 5]);
    const values = part.dataSync();
    // big's row r is x's row r mod 256, whose element j is (r mod 256) * 256 + j.
    for (let i = 0; i < 2 * 64; i++) {
      for (let j = 0; j < 5; j++) assert.equal(values[i * 5 + j], ((row + i) % 256) * 256 + column + j, `[${i}, ${j}]`);
    }
    tf.dispose([x, big, part]);
  });
});
