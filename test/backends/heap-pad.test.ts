import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { cutPlan, heapPadCalls, padPlan, type PadPlan, type PadSegment } from '../../src/backends/kernel-fixes/heap-pad.js';
import { kernelThreadCount } from '../../src/backends/wasm-simd/kernel-threads.js';
import { assertWasmMatchesCpu, generator, type HeapDtype } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

/** The plan carried out on numbered elements (input element i is i + 1, padding 0), for comparing with a plain pad. */
function applyPlan(plan: PadPlan, input: number, output: number): number[] {
  const out = new Array<number>(output).fill(-1);
  const outRun = plan.before + plan.run + plan.after;
  const write = (s: PadSegment) => {
    if (s.kind === 'fill') for (let i = 0; i < s.elements; i++) out[s.to + i] = 0;
    else
      for (let row = 0; row < s.rows; row++) {
        for (let i = 0; i < outRun; i++) {
          const inRun = i - plan.before;
          out[s.to + row * outRun + i] = inRun >= 0 && inRun < plan.run ? s.from + row * plan.run + inRun + 1 : 0;
        }
      }
  };
  plan.segments.forEach(write);
  assert.ok(out.every((v) => v >= 0), 'every output element written');
  assert.ok(input >= 0);
  return out;
}

/** A plain pad of numbered elements, element by element. */
function referencePad(shape: number[], paddings: Array<[number, number]>): number[] {
  const outShape = shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
  const size = outShape.reduce((a, b) => a * b, 1);
  const inStrides = tf.util.computeStrides(shape).concat([1]);
  const outStrides = tf.util.computeStrides(outShape).concat([1]);
  return Array.from({ length: size }, (_, at) => {
    let from = 0;
    for (let axis = 0; axis < shape.length; axis++) {
      const i = Math.floor(at / (outStrides[axis] ?? 1)) % outShape[axis]! - paddings[axis]![0];
      if (i < 0 || i >= shape[axis]!) return 0;
      from += i * (axis === shape.length - 1 ? 1 : inStrides[axis]!);
    }
    return from + 1;
  });
}

describe('padPlan and cutPlan: a pad as contiguous runs and fills', () => {
  it('merges the padding between runs and the rows that follow each other', () => {
    const plan = padPlan([2, 3, 4, 2], [[0, 0], [1, 1], [1, 2], [0, 0]]);
    assert.deepEqual([plan.run, plan.before, plan.after], [8, 2, 4]);
    // Per image: one padded row (14 elements), three rows holding runs, one padded row; the two
    // padded rows between the images are one fill.
    assert.deepEqual(plan.segments, [
      { kind: 'fill', to: 0, elements: 14 },
      { kind: 'rows', from: 0, to: 14, rows: 3 },
      { kind: 'fill', to: 56, elements: 28 },
      { kind: 'rows', from: 24, to: 84, rows: 3 },
      { kind: 'fill', to: 126, elements: 14 },
    ]);
  });

  it('gives what a plain pad gives, for every rank and padding, whole and cut into pieces', () => {
    const next = generator(7);
    for (let k = 0; k < 300; k++) {
      const rank = 1 + next(5);
      const shape = Array.from({ length: rank }, () => next(4) + (k % 17 === 0 ? 0 : 1));
      const paddings = shape.map(() => [next(3), next(3)] as [number, number]);
      const plan = padPlan(shape, paddings);
      const expected = referencePad(shape, paddings);
      const input = shape.reduce((a, b) => a * b, 1);
      assert.deepEqual(applyPlan(plan, input, expected.length), expected, JSON.stringify({ shape, paddings }));
      for (const parts of [2, 3, 8]) {
        const pieces = cutPlan(plan, expected.length, parts);
        assert.ok(pieces.length <= parts + 1, `${pieces.length} pieces for ${parts}`);
        assert.deepEqual(applyPlan({ ...plan, segments: pieces.flat() }, input, expected.length), expected, `${parts} pieces of ${JSON.stringify({ shape, paddings })}`);
      }
    }
  });

  it('a rank-0 tensor and one padded nowhere are one run', () => {
    assert.deepEqual(padPlan([], []).segments, [{ kind: 'rows', from: 0, to: 0, rows: 1 }]);
    assert.deepEqual(padPlan([2, 3], [[0, 0], [0, 0]]).segments, [{ kind: 'rows', from: 0, to: 0, rows: 1 }]);
  });
});

describe('PadV2 on wasm by runs (kernel-fixes/heap-pad.ts)', () => {
  onWasm({ activate: false });

  it('gives cpu\'s values for float32, int32 and bool, any rank, zero and other constants', async () => {
    const next = generator(11);
    const dtypes: HeapDtype[] = ['float32', 'int32', 'bool'];
    const all = Array.from({ length: 60 }, (_, k) => {
      const rank = 1 + next(5);
      const shape = Array.from({ length: rank }, () => 1 + next(5));
      const paddings = shape.map(() => [next(3), next(3)] as [number, number]);
      const dtype = dtypes[k % 3]!;
      const value = k % 4 === 3 ? (dtype === 'bool' ? 1 : 2.5) : 0;
      return { shape, paddings, dtype, value };
    });
    const before = heapPadCalls.count;
    await assertWasmMatchesCpu(all, (x, c) => tf.pad(x, c.paddings, c.value), (c) => c.shape.map((d, i) => d + c.paddings[i]![0] + c.paddings[i]![1]), useBackend);
    // tf.pad dispatches PadV2 for a padding of zeros too.
    assert.equal(heapPadCalls.count - before, all.length);
  });

  it('a large zero pad (ResNet50\'s stem, a Winograd input) is cut among the kernel threads, the same values as cpu\'s', async () => {
    const cases = [
      { shape: [8, 60, 60, 3], paddings: [[0, 0], [3, 3], [3, 3], [0, 0]] as Array<[number, number]>, dtype: 'float32' as const },
      { shape: [2, 30, 30, 64], paddings: [[0, 0], [1, 3], [1, 3], [0, 0]] as Array<[number, number]>, dtype: 'float32' as const },
    ];
    const before = heapPadCalls.threaded;
    await assertWasmMatchesCpu(cases, (x, c) => tf.pad(x, c.paddings), (c) => c.shape.map((d, i) => d + c.paddings[i]![0] + c.paddings[i]![1]), useBackend);
    assert.equal(heapPadCalls.threaded - before, kernelThreadCount() > 1 ? cases.length : 0);
  });
});
