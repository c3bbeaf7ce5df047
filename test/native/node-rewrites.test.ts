import assert from 'node:assert/strict';
import { addAsBiasAdd, batchMatMulAsMatMul, sumAsBiasAddGrad, type RewriteContext } from '../../src/native/traced-graph/node-rewrites.js';
import type { TracedNode } from '../../src/native/traced-graph/op-trace.js';

const FLOAT = 1;
const INT32 = 3;

/** A small trace: tensors by handle, and the ops that made some of them. */
function traceOf(tensors: Record<number, { dtype?: number; shape: number[]; values?: number[] }>, producers: Record<number, TracedNode> = {}): RewriteContext {
  return {
    tensor: (handle) => ({ dtype: tensors[handle]!.dtype ?? FLOAT, shape: tensors[handle]!.shape }),
    producer: (handle) => producers[handle],
    int32Constant: (handle) => (tensors[handle]?.values ? Int32Array.from(tensors[handle]!.values!) : undefined),
  };
}

function add(op: string, out: number[]): TracedNode {
  return { op, attrs: [], inputs: [1, 2], outputs: [{ handle: 3, dtype: FLOAT, shape: out }] };
}

const BIAS_ADD_ATTRS = [
  { name: 'T', type: 4, value: FLOAT },
  { name: 'data_format', type: 0, value: 'NHWC' },
];

// node-rewrites.ts: ops written as equivalent ones TensorFlow's graph optimizer fuses.
describe('traced graph rewrites: Add of a bias as BiasAdd', () => {
  it("writes x + b, b a float vector as long as x's last axis, as BiasAdd with channels last", () => {
    for (const op of ['Add', 'AddV2']) {
      assert.deepEqual(addAsBiasAdd(add(op, [1, 7, 7, 64]), traceOf({ 1: { shape: [1, 7, 7, 64] }, 2: { shape: [64] } })), { op: 'BiasAdd', attrs: BIAS_ADD_ATTRS, inputs: [1, 2] });
    }
    assert.equal(addAsBiasAdd(add('AddV2', [32, 10]), traceOf({ 1: { shape: [32, 10] }, 2: { shape: [10] } }))?.op, 'BiasAdd');
  });

  it('looks through a Reshape of the vector to [1, ..., 1, C] (how tfjs adds a depthwise convolution\'s bias), feeding the vector', () => {
    const reshape: TracedNode = { op: 'Reshape', attrs: [], inputs: [4, 5], outputs: [{ handle: 2, dtype: FLOAT, shape: [1, 1, 1, 8] }] };
    const tensors = { 1: { shape: [2, 12, 12, 8] }, 2: { shape: [1, 1, 1, 8] }, 4: { shape: [8] }, 5: { shape: [4], dtype: INT32 } };
    assert.deepEqual(addAsBiasAdd(add('AddV2', [2, 12, 12, 8]), traceOf(tensors, { 2: reshape })), { op: 'BiasAdd', attrs: BIAS_ADD_ATTRS, inputs: [1, 4] });
    // Not a vector before the reshape, or not ones before the channels: left alone.
    assert.equal(addAsBiasAdd(add('AddV2', [2, 12, 12, 8]), traceOf({ ...tensors, 4: { shape: [1, 8] } }, { 2: reshape })), null);
    assert.equal(addAsBiasAdd(add('AddV2', [2, 12, 12, 8]), traceOf({ ...tensors, 1: { shape: [2, 12, 12, 8] }, 2: { shape: [1, 12, 1, 8] } }, { 2: reshape })), null);
    assert.equal(addAsBiasAdd(add('AddV2', [2, 12, 12, 8]), traceOf(tensors)), null, 'no Reshape made it');
  });

  it('leaves every other addition as traced', () => {
    const none = (x: number[], b: number[], out: number[], dtype = FLOAT, op = 'AddV2') => addAsBiasAdd(add(op, out), traceOf({ 1: { shape: x, dtype }, 2: { shape: b, dtype } }));
    assert.equal(none([1, 7, 7, 64], [7], [1, 7, 7, 64]), null, 'not the last axis');
    assert.equal(none([64], [64], [64]), null, 'x a vector too');
    assert.equal(none([64], [4, 64], [4, 64]), null, 'the vector first, broadcast the other way');
    assert.equal(none([2, 64], [64], [2, 64], INT32), null, 'integers');
    assert.equal(none([2, 64], [64], [2, 64], FLOAT, 'Sub'), null, 'not an addition');
  });
});

describe('traced graph rewrites: Sum of a bias gradient as BiasAddGrad', () => {
  const sum = (dy: number[], axes: number[] | undefined, keepDims = false, dtype = FLOAT) =>
    sumAsBiasAddGrad(
      { op: 'Sum', attrs: [{ name: 'keep_dims', type: 3, value: keepDims }, { name: 'T', type: 4, value: dtype }], inputs: [1, 2], outputs: [{ handle: 3, dtype, shape: [dy.at(-1)!] }] },
      traceOf({ 1: { shape: dy, dtype }, 2: { shape: [axes?.length ?? 0], dtype: INT32, ...(axes ? { values: axes } : {}) } }),
    );

  it('writes the sum of dy over every axis but the last (fixed axes, in any order or negative) as BiasAddGrad(dy)', () => {
    assert.deepEqual(sum([1, 56, 56, 64], [0, 1, 2]), { op: 'BiasAddGrad', attrs: BIAS_ADD_ATTRS, inputs: [1] });
    assert.deepEqual(sum([32, 10], [0])?.inputs, [1]);
    assert.equal(sum([2, 7, 7, 8], [2, -4, 1])?.op, 'BiasAddGrad');
  });

  it('leaves other sums alone', () => {
    assert.equal(sum([1, 56, 56, 64], [0, 1, 2], true), null, 'keeping its dimensions');
    assert.equal(sum([1, 56, 56, 64], [1, 2]), null, 'not the batch axis');
    assert.equal(sum([1, 56, 56, 64], [0, 1, 2, 3]), null, 'the last axis too');
    assert.equal(sum([1, 56, 56, 64], [0, 1, 1]), null, 'an axis twice');
    assert.equal(sum([1, 56, 56, 64], undefined), null, 'axes computed, not fixed');
    assert.equal(sum([64], [0]), null, 'a vector');
    assert.equal(sum([4, 64], [0], false, INT32), null, 'integers');
  });
});

describe('traced graph rewrites: a product of one matrix each as MatMul', () => {
  const product = (a: number[], b: number[], out: number[], flags: { adjX?: boolean; adjY?: boolean } = {}, op = 'BatchMatMulV2', dtype = FLOAT) =>
    batchMatMulAsMatMul(
      {
        op,
        attrs: [
          { name: 'adj_x', type: 3, value: flags.adjX ?? false },
          { name: 'adj_y', type: 3, value: flags.adjY ?? false },
        ],
        inputs: [1, 2],
        outputs: [{ handle: 3, dtype, shape: out }],
      },
      traceOf({ 1: { shape: a, dtype }, 2: { shape: b, dtype } }),
    );
  const reshape = (input: unknown, shape: number[]) => ({
    op: 'Reshape',
    attrs: [
      { name: 'T', type: 4, value: FLOAT },
      { name: 'Tshape', type: 4, value: INT32 },
    ],
    inputs: [input, { int32: shape }],
  });

  it('writes BatchMatMulV2 of [1, M, K] by [1, K, N] as MatMul of the matrices, its adjoints as transposes, reshaped back to [1, M, N]', () => {
    const rewritten = product([1, 6, 4], [1, 5, 4], [1, 6, 5], { adjY: true });
    assert.equal(rewritten?.as, 'MatMul');
    assert.deepEqual(rewritten?.before, [
      { ...reshape(1, [6, 4]), dtype: FLOAT },
      { ...reshape(2, [5, 4]), dtype: FLOAT },
      {
        op: 'MatMul',
        attrs: [
          { name: 'T', type: 4, value: FLOAT },
          { name: 'transpose_a', type: 3, value: false },
          { name: 'transpose_b', type: 3, value: true },
        ],
        inputs: [{ step: 0 }, { step: 1 }],
        dtype: FLOAT,
      },
    ]);
    assert.deepEqual({ op: rewritten?.op, attrs: rewritten?.attrs, inputs: rewritten?.inputs }, reshape({ step: 2 }, [1, 6, 5]));
    assert.deepEqual(product([1, 4, 6], [1, 4, 5], [1, 6, 5], { adjX: true }, 'BatchMatMul')?.before?.[2]?.attrs.slice(1).map((a) => a.value), [true, false]);
  });

  it('writes one of rank 2 (tfjs\'s product of two matrices) as MatMul of its own inputs', () => {
    assert.deepEqual(product([4, 6], [5, 4], [6, 5], { adjX: true, adjY: true }), {
      op: 'MatMul',
      attrs: [
        { name: 'T', type: 4, value: FLOAT },
        { name: 'transpose_a', type: 3, value: true },
        { name: 'transpose_b', type: 3, value: true },
      ],
      inputs: [1, 2],
      as: 'MatMul',
    });
  });

  it('leaves batched, broadcast and integer products as traced', () => {
    assert.equal(product([2, 6, 4], [2, 4, 5], [2, 6, 5]), null, 'a batch of 2');
    assert.equal(product([1, 6, 4], [2, 4, 5], [2, 6, 5]), null, 'one side broadcast');
    assert.equal(product([1, 1, 6, 4], [1, 1, 4, 5], [1, 1, 6, 5]), null, 'rank 4');
    assert.equal(product([1, 6, 4], [1, 4, 5], [1, 6, 5], {}, 'BatchMatMulV2', INT32), null, 'integers');
    assert.equal(product([1, 6, 4], [1, 4, 5], [1, 6, 5], {}, 'MatMul'), null, 'another op');
  });
});
