import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { heapBroadcastCalls, heapBroadcastThreadedCalls, heapSameShapeCalls, sameShapeFrom } from '../../src/backends/kernel-fixes/heap-broadcast-binary.js';
import { kernelThreadCount } from '../../src/backends/wasm-simd/kernel-threads.js';
import { asRowBroadcast } from '../../src/backends/wasm-simd/broadcast-binary.js';
import { generator } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

describe('asRowBroadcast: which broadcasts the SIMD rows take', () => {
  it('a row vector, a value per row, a scalar', () => {
    assert.deepEqual(asRowBroadcast([256], [2, 128, 256]), { kind: 'row', rows: 256, columns: 256, otherStep: 0 });
    assert.deepEqual(asRowBroadcast([1, 1, 256], [2, 128, 256]), { kind: 'row', rows: 256, columns: 256, otherStep: 0 });
    assert.deepEqual(asRowBroadcast([128, 4], [2, 128, 4]), { kind: 'row', rows: 2, columns: 512, otherStep: 0 });
    assert.deepEqual(asRowBroadcast([2, 128, 1], [2, 128, 256]), { kind: 'column', rows: 256, columns: 256, otherStep: 1 });
    assert.deepEqual(asRowBroadcast([2, 1, 1], [2, 3, 4]), { kind: 'column', rows: 2, columns: 12, otherStep: 1 });
    assert.deepEqual(asRowBroadcast([], [3, 8]), { kind: 'column', rows: 3, columns: 8, otherStep: 0 });
    assert.deepEqual(asRowBroadcast([1], [2, 6]), { kind: 'column', rows: 1, columns: 12, otherStep: 0 });
  });
  it('refuses rows that are not whole vectors and other broadcasts', () => {
    assert.equal(asRowBroadcast([3], [2, 3]), undefined);
    assert.equal(asRowBroadcast([2, 1], [2, 3]), undefined);
    assert.equal(asRowBroadcast([1, 4, 1], [2, 4, 8]), undefined);
    assert.equal(asRowBroadcast([], [3, 5]), undefined);
  });
});

interface BroadcastCase {
  a: number[];
  b: number[];
  op: 'add' | 'sub' | 'mul' | 'div';
}

/** Random output shapes (axes 1 to 9, often a multiple of 4 last), one operand full, the other a row, a column, a scalar or a mixed broadcast, in either order. */
function cases(count: number): BroadcastCase[] {
  const pick = generator(2718);
  return Array.from({ length: count }, (_, k) => {
    const rank = 1 + pick(4);
    const out = Array.from({ length: rank }, (_, i) => (i === rank - 1 && pick(2) === 0 ? 4 * (1 + pick(3)) : 1 + pick(9)));
    const split = pick(rank + 1);
    const kind = pick(4);
    const other =
      kind === 0 ? out.map((d, i) => (i < split ? 1 : d)) // a row
      : kind === 1 ? out.map((d, i) => (i < split ? d : 1)) // a column
      : kind === 2 ? [] // a scalar
      : out.map((d) => (pick(2) === 0 ? 1 : d)); // anything
    const op = (['add', 'sub', 'mul', 'div'] as const)[k % 4]!;
    return k % 2 === 0 ? { a: out, b: other, op } : { a: other, b: out, op };
  });
}

/** Values that are all different and never 0 (a divisor). */
const values = (shape: number[], seed: number) => {
  const n = shape.reduce((p, d) => p * d, 1);
  return tf.tensor(Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 23) * 0.37 - 4.07), shape);
};

// wasm's Add, Sub, Multiply, RealDiv with one operand broadcast (heap-broadcast-binary.ts).
describe('wasm: broadcast arithmetic in SIMD rows on the heap (src/backends/kernel-fixes/heap-broadcast-binary.ts)', function () {
  onWasm({ activate: false });

  it('400 random broadcasts of the four operations, either order, equal cpu\'s bit for bit, and the row broadcasts took the kernel', async () => {
    const all = cases(400);
    const run = (c: BroadcastCase) => tf.tidy(() => Array.from(tf[c.op](values(c.a, 1), values(c.b, 5)).dataSync()));
    await useBackend('cpu');
    const expected = all.map(run);
    await useBackend('wasm');
    const before = heapBroadcastCalls.count;
    const tensors = tf.memory().numTensors;
    all.forEach((c, k) => assert.deepEqual(run(c), expected[k], `case ${k}: ${JSON.stringify(c)}`));
    assert.equal(tf.memory().numTensors, tensors);
    const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
    const simd = all.filter((c) => {
      const out = tf.backend_util.assertAndGetBroadcastShape(c.a, c.b);
      const [aFull, bFull] = [size(c.a) === size(out), size(c.b) === size(out)];
      return aFull !== bFull && asRowBroadcast(aFull ? c.b : c.a, out) !== undefined;
    });
    assert.ok(simd.length > 60, `${simd.length} cases for the kernel`);
    assert.equal(heapBroadcastCalls.count - before, simd.length);
  });

  it('broadcasts from 65,536 elements, cut among the kernel threads by rows (a row, a value per row, a scalar; either order), equal cpu\'s bit for bit', async () => {
    const pairs: Array<[number[], number[]]> = [
      [[1, 128, 1024], [1024]],
      [[3, 7, 4096], [1, 1, 4096]],
      [[1, 128, 1024], [1, 128, 1]],
      [[17_000, 4], [17_000, 1]],
      [[1, 128, 1024], []],
    ];
    const ops = ['add', 'sub', 'mul', 'div'] as const;
    const run = () => tf.tidy(() => pairs.flatMap(([full, other], i) => ops.flatMap((op) => [values(full, i), values(other, i + 3)].map((_, order) => Array.from((order === 0 ? tf[op](values(full, i), values(other, i + 3)) : tf[op](values(other, i + 3), values(full, i))).dataSync())))));
    await useBackend('cpu');
    const expected = run();
    await useBackend('wasm');
    const [before, threadedBefore] = [heapBroadcastCalls.count, heapBroadcastThreadedCalls.count];
    const tensors = tf.memory().numTensors;
    assert.deepEqual(run(), expected);
    assert.equal(tf.memory().numTensors, tensors);
    const calls = pairs.length * ops.length * 2;
    assert.equal(heapBroadcastCalls.count - before, calls);
    // Each on the kernel threads where the wasm backend runs more than one (one core: the caller alone).
    assert.equal(heapBroadcastThreadedCalls.count - threadedBefore, kernelThreadCount() > 1 ? calls : 0);
  });

  it('operands of one shape (tails past the last vector, cut among kernel threads from 65,536 elements) equal cpu\'s bit for bit, through the SIMD pass', async () => {
    const shapes = [[3, 5], [4], [1], [2, 3, 8], [70_003], [2, 256, 260]];
    const run = () => tf.tidy(() => shapes.flatMap((shape, i) => (['add', 'sub', 'mul', 'div'] as const).map((op) => Array.from(tf[op](values(shape, i), values(shape, i + 11)).dataSync()))));
    await useBackend('cpu');
    const expected = run();
    await useBackend('wasm');
    // Every size through the SIMD pass, then the default: the small ones left to XNNPACK, with the same values.
    const threshold = sameShapeFrom.elements;
    for (const [from, taken] of [[1, shapes.length], [threshold, shapes.filter((s) => s.reduce((p, d) => p * d, 1) >= threshold).length]] as const) {
      sameShapeFrom.elements = from;
      try {
        const before = heapSameShapeCalls.count;
        const tensors = tf.memory().numTensors;
        assert.deepEqual(run(), expected, `from ${from} elements`);
        assert.equal(tf.memory().numTensors, tensors);
        assert.equal(heapSameShapeCalls.count - before, taken * 4, `from ${from} elements`);
      } finally {
        sameShapeFrom.elements = threshold;
      }
    }
  });

  it('IEEE edges as cpu: infinities, NaN, signed zeros, division by zero', async () => {
    const edges = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 0, -0, 1e-38, 3e38, -2.5];
    const run = () => tf.tidy(() => {
      const full = tf.tensor(edges, [2, 4]);
      // The last pair: operands of one shape, every edge against every other (64 pairs, 16 vectors).
      const [left, right] = [tf.tensor(edges.flatMap((e) => edges.map(() => e))), tf.tensor(edges.flatMap(() => edges))];
      return (['add', 'sub', 'mul', 'div'] as const).flatMap((op) => [tf[op](full, tf.tensor([0, -0, Number.POSITIVE_INFINITY, 2])), tf[op](tf.scalar(-0), full), tf[op](full, tf.tensor([[Number.NaN], [0]])), tf[op](left, right)]).map((t) => Array.from(t.dataSync()));
    });
    await useBackend('cpu');
    const expected = run();
    await useBackend('wasm');
    const threshold = sameShapeFrom.elements;
    sameShapeFrom.elements = 1;
    try {
      assert.deepEqual(run(), expected);
    } finally {
      sameShapeFrom.elements = threshold;
    }
  });
});
