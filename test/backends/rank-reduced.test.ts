import assert from 'node:assert/strict';
import tf from '#tfjs';
import { padAxisByAxis, reverseAxisByAxis } from '../../src/backends/kernel-fixes/rank-reduced.js';
import { onCpu } from '../support/backend-suite.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** cpu's own kernel, recording the rank of each input it is given. */
function spiedCpuKernel(kernelName: string, ranks: number[]): tf.KernelFunc {
  const kernel = tf.getKernel(kernelName, 'cpu')!.kernelFunc;
  return (args) => {
    ranks.push(args.inputs['x']!.shape.length);
    return kernel(args);
  };
}

function call(fix: typeof padAxisByAxis, x: tf.Tensor, attrs: tf.NamedAttrMap, original: tf.KernelFunc): tf.Tensor | undefined {
  const args: KernelArgs = { inputs: { x }, attrs, backend: tf.backend() };
  return fix(args, original) as tf.Tensor | undefined;
}

const values = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 1.7) * 10), shape);

// The rewrites webgpu gets for its rank-5 Pad and Reverse shaders (docs/tolerances.md), checked on
// cpu: the same tensor as one kernel call, with the kernel only ever given rank 3.
describe('rank-5 Pad and Reverse as one rank-3 call per axis (kernel-fixes/rank-reduced.ts)', function () {
  onCpu();

  it('pads a rank-5 tensor as tf.pad does, per padded axis, giving the kernel rank 3 only', async function () {
    const x = values([2, 3, 4, 2, 3]);
    const paddings: Array<[number, number]> = [[0, 0], [1, 2], [0, 0], [2, 1], [0, 0]];
    const ranks: number[] = [];
    const before = tf.memory().numTensors;
    const padded = call(padAxisByAxis, x, { paddings, constantValue: -1.5 }, spiedCpuKernel('PadV2', ranks))!;
    assert.equal(tf.memory().numTensors, before + 1, 'only the result is left');
    const expected = tf.pad(x, paddings, -1.5);
    assert.deepEqual(padded.shape, [2, 6, 4, 5, 3]);
    assert.deepEqual(Array.from(await padded.data()), Array.from(await expected.data()));
    assert.deepEqual(ranks, [3, 3]);
    tf.dispose([x, padded, expected]);
  });

  it('reverses a rank-5 tensor as tf.reverse does, per axis (negative, repeated, of size 1), giving the kernel rank 3 only', async function () {
    const x = values([2, 3, 1, 4, 2]);
    const ranks: number[] = [];
    const reversed = call(reverseAxisByAxis, x, { dims: [1, -1, 2, 4] }, spiedCpuKernel('Reverse', ranks))!;
    const expected = tf.reverse(x, [1, 2, 4]);
    assert.deepEqual(Array.from(await reversed.data()), Array.from(await expected.data()));
    assert.deepEqual(ranks, [3, 3], 'axis 1 and the last axis (given twice); axis 2 has one element');
    tf.dispose([x, reversed, expected]);
  });

  it('leaves rank 4 and below to the kernel', function () {
    const x = values([2, 3, 4, 2]);
    const ranks: number[] = [];
    assert.equal(call(padAxisByAxis, x, { paddings: [[0, 0], [1, 1], [0, 0], [0, 0]], constantValue: 0 }, spiedCpuKernel('PadV2', ranks)), undefined);
    assert.equal(call(reverseAxisByAxis, x, { dims: [1] }, spiedCpuKernel('Reverse', ranks)), undefined);
    assert.deepEqual(ranks, []);
    x.dispose();
  });
});
