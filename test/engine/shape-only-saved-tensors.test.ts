import assert from 'node:assert/strict';
import tf from '#tfjs';
import '../../src/runtime.js';
import { probeBackend, useBackend } from '../../src/backends/index.js';
import { SHAPE_ONLY_GRADIENT_KERNELS, installShapeOnlySavedTensors, restoreTfjsSavedTensors } from '../../src/engine/shape-only-saved-tensors.js';
import { values } from '../support/sine-values.js';
import { restoresBackend } from '../support/backend-suite.js';

interface KernelCase {
  /** The kernel the case records (one of SHAPE_ONLY_GRADIENT_KERNELS). */
  kernel: string;
  /** A function of xs through that kernel; its inputs are intermediates (an exp), so that nothing else keeps them. */
  f: (...xs: tf.Tensor[]) => tf.Tensor;
  shapes: number[][];
}

const e = tf.exp;
const KERNEL_CASES: KernelCase[] = [
  { kernel: 'Add', f: (a, b) => tf.add(e(a!), e(b!)), shapes: [[2, 3, 4], [4]] },
  { kernel: 'Sub', f: (a, b) => tf.sub(e(a!), e(b!)), shapes: [[3, 1], [1, 5]] },
  { kernel: 'AddN', f: (a, b, c) => tf.addN([e(a!), e(b!), e(c!)]), shapes: [[2, 3], [2, 3], [2, 3]] },
  { kernel: 'Reshape', f: (a) => tf.reshape(e(a!), [6, 4]), shapes: [[2, 3, 4]] },
  { kernel: 'PadV2', f: (a) => tf.pad(e(a!), [[1, 0], [2, 1]], 0.5), shapes: [[3, 4]] },
  { kernel: 'MirrorPad', f: (a) => tf.mirrorPad(e(a!), [[1, 1], [0, 2]], 'reflect'), shapes: [[3, 4]] },
  { kernel: 'Slice', f: (a) => tf.slice(e(a!), [1, 0, 2], [1, -1, 2]), shapes: [[3, 2, 5]] },
  { kernel: 'Concat', f: (a, b) => tf.concat([e(a!), e(b!)], 1), shapes: [[2, 3], [2, 5]] },
  { kernel: 'Mean', f: (a) => tf.mean(e(a!), [0, 2]), shapes: [[2, 3, 4]] },
  { kernel: 'Sum', f: (a) => tf.sum(e(a!), 1, true), shapes: [[4, 3]] },
];

/** The case's gradients with respect to each x, for a cotangent of its own. */
function gradients(c: KernelCase): number[][] {
  return tf.tidy(() => {
    const xs = c.shapes.map((shape, k) => values(shape, k + 1));
    const y = tf.tidy(() => c.f(...xs));
    const dy = values(y.shape, 17);
    return tf.grads((...args: tf.Tensor[]) => c.f(...args))(xs, dy).map((g) => Array.from(g.dataSync()));
  });
}

/** How many tensors the tape's nodes for `kernel` saved, and how many of them were released by the end of the forward pass. */
function savedBy(kernel: string, c: KernelCase): { saved: number; released: number } {
  const counts = { saved: 0, released: 0 };
  tf.tidy(() => {
    const xs = c.shapes.map((shape, k) => values(shape, k + 1));
    tf.grads((...args: tf.Tensor[]) => {
      const y = c.f(...args);
      const tape = (tf.engine() as unknown as { state: { activeTape: Array<{ kernelName: string; saved?: tf.Tensor[] }> } }).state.activeTape;
      for (const node of tape) {
        if (node.kernelName !== kernel) continue;
        counts.saved += node.saved?.length ?? 0;
        counts.released += node.saved?.filter((t) => t.isDisposed).length ?? 0;
      }
      return tf.sum(y);
    })(xs);
  });
  return counts;
}

/** How many data buffers are alive when the backward pass starts (after the forward pass's scope ends). */
function buffersAtBackward(f: () => tf.Scalar, xs: tf.Variable[]): number {
  const engine = tf.engine() as unknown as { state: { numDataBuffers: number } };
  let alive = -1;
  const probe = tf.customGrad(((x: tf.Tensor) => ({
    value: tf.mul(x, 1),
    gradFunc: (dy: tf.Tensor) => {
      alive = engine.state.numDataBuffers;
      return [dy];
    },
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
  const baseline = engine.state.numDataBuffers;
  tf.tidy(() => void tf.variableGrads(() => probe(f()) as tf.Scalar, xs));
  return alive - baseline;
}

// keras-bridge's runtime installs it on import (src/engine/shape-only-saved-tensors.ts).
describe("the tape keeps only the shapes of what Add, Reshape and the like save for their gradients: tfjs-core's results, less memory", function () {
  this.timeout(120_000);
  restoresBackend();
  after(() => {
    installShapeOnlySavedTensors();
  });

  it('every case below is one of the kernels, and every kernel has a case', () => {
    assert.deepEqual([...new Set(KERNEL_CASES.map((c) => c.kernel))].sort(), [...SHAPE_ONLY_GRADIENT_KERNELS].sort());
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    describe(backend, () => {
      before(async function () {
        if (!(await probeBackend(backend)).available) this.skip();
        await useBackend(backend);
      });

      for (const c of KERNEL_CASES) {
        it(`${c.kernel}: what it saved is released when recorded, and the gradients are tfjs-core's, bit for bit`, () => {
          restoreTfjsSavedTensors();
          const expected = gradients(c);
          const keptByTfjs = savedBy(c.kernel, c);
          installShapeOnlySavedTensors();
          const before = tf.memory().numTensors;
          assert.deepEqual(gradients(c), expected);
          assert.equal(tf.memory().numTensors, before, 'tensors left behind');
          const { saved, released } = savedBy(c.kernel, c);
          assert.ok(saved > 0, `${c.kernel} saved nothing: the case no longer pins anything`);
          assert.deepEqual(keptByTfjs, { saved, released: 0 });
          // Released as soon as recorded: disposed before the forward pass ended.
          assert.equal(released, saved, `${c.kernel}'s saved tensors are not released`);
        });
      }

      it('a chain of bias adds: each product before its bias is freed once the forward pass ends, not kept to the backward pass', () => {
        const x = tf.variable(values([16, 16], 3));
        const w = tf.variable(values([16, 16], 4, 0.3));
        const bias = tf.variable(values([16], 5));
        // matMul keeps its operands (h and w), tanh its output; only the bias add kept matMul's output.
        const chain = () => {
          let h: tf.Tensor = x;
          for (let i = 0; i < 8; i++) h = tf.tanh(tf.add(tf.matMul(h, w), bias));
          return tf.sum(h) as tf.Scalar;
        };
        restoreTfjsSavedTensors();
        const tfjsAlive = buffersAtBackward(chain, [x, w, bias]);
        installShapeOnlySavedTensors();
        const alive = buffersAtBackward(chain, [x, w, bias]);
        assert.equal(tfjsAlive - alive, 8, `${alive} buffers alive at the backward pass against tfjs-core's ${tfjsAlive}`);
        tf.dispose([x, w, bias]);
      });

      it('a residual block of Keras layers (convolution with bias, batch normalization, ReLU, add): fewer buffers at the backward pass, the same weight gradients', () => {
        const input = tf.input({ shape: [8, 8, 4] });
        const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) });
        const normalized = tf.layers.batchNormalization().apply(conv.apply(input)) as tf.SymbolicTensor;
        const output = tf.layers.reLU().apply(tf.layers.add().apply([normalized, input]) as tf.SymbolicTensor) as tf.SymbolicTensor;
        const model = tf.model({ inputs: input, outputs: output });
        const x = values([2, 8, 8, 4], 6);
        const trainable = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
        const loss = () => tf.sum(model.apply(x, { training: false }) as tf.Tensor) as tf.Scalar;
        const weightGradients = () => tf.tidy(() => Object.values(tf.variableGrads(loss, trainable).grads).map((g) => Array.from(g.dataSync())));
        restoreTfjsSavedTensors();
        const expected = weightGradients();
        const tfjsAlive = buffersAtBackward(loss, trainable);
        installShapeOnlySavedTensors();
        assert.deepEqual(weightGradients(), expected);
        const alive = buffersAtBackward(loss, trainable);
        // The batch normalization's output (the residual add's operand, reshaped back). The
        // convolution adds its bias in its own kernel under a tape (src/layers/fixes/fused-convolutions.ts).
        assert.equal(alive, tfjsAlive - 1, `${alive} buffers alive at the backward pass against tfjs-core's ${tfjsAlive}`);
        tf.dispose(x);
        model.dispose();
      });

      it("a gradient registered over tfjs-core's keeps what it saves", () => {
        const tfjsSub = tf.getGradient('Sub')!;
        let read: number[] | undefined;
        // A gradient that reads its saved operands' values.
        tf.registerGradient({
          kernelName: 'Sub',
          inputsToSave: ['a', 'b'],
          gradFunc: (dy, saved) => {
            read = Array.from((saved[0] as tf.Tensor).dataSync());
            return tfjsSub.gradFunc(dy, saved, {});
          },
        });
        try {
          const a = tf.variable(values([3], 7));
          tf.tidy(() => void tf.variableGrads(() => tf.sum(tf.sub(tf.exp(a), a)) as tf.Scalar, [a]));
          assert.deepEqual(read, Array.from(tf.tidy(() => tf.exp(a).dataSync())));
          a.dispose();
        } finally {
          tf.registerGradient(tfjsSub);
        }
      });
    });
  }
});
