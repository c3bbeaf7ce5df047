import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { runTensorflowOp } from '../../src/backends/kernel-fixes/tensorflow-op.js';
import { nativeGraphFunction } from '../../src/native/traced-graph/native-graph-function.js';
import { traceModelNativeGraph, traceNativeGraph, TraceError } from '../../src/native/traced-graph/traced-native-graph.js';
import { onBackend } from '../support/backend-suite.js';

/**
 * Graph against op by op, on the same backend: TensorFlow's graph optimizer fuses and reorders
 * float32 arithmetic (a convolution with its bias and activation, a batch normalization folded into
 * it). Measured on this suite's models: at most 4e-7 of an output's largest magnitude; allowed
 * 1e-5, float32's epsilon (1.2e-7) times the ~100 terms of the longest sum reordered.
 */
const SCALED_TOLERANCE = 1e-5;

function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const e = expected.dataSync();
  const scale = Math.max(...Array.from(e, Math.abs), 1e-30);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - e[i]!) <= SCALED_TOLERANCE * scale, `${what}[${i}]: ${a[i]} against ${e[i]} (scale ${scale})`);
}

/** A functional model with what converted models run: convolution, batch normalization, concatenation, dense, softmax. */
function convNet(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  const a = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.batchNormalization({ movingVarianceInitializer: tf.initializers.constant({ value: 2 }), betaInitializer: tf.initializers.constant({ value: 0.1 }) }).apply(a) as tf.SymbolicTensor;
  const c = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: tf.initializers.glorotNormal({ seed: 2 }) }).apply(b) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([b, c]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(joined) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

async function tracedTempDirs(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((name) => name.startsWith('keras-bridge-traced-'));
}

// src/native/traced-graph: a converted model's ops, recorded as tfjs-node dispatches them, written
// as a TensorFlow GraphDef in a SavedModel, and run by TensorFlow's own runtime.
describe('traceNativeGraph: a model traced into one TensorFlow graph (tensorflow backend)', function () {
  this.timeout(120_000);
  onBackend('tensorflow');

  it('runs a functional model as predict() does, leaves no file or tensor behind, and refuses other shapes', async () => {
    const model = convNet();
    const x = tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 7);
    const dirsBefore = await tracedTempDirs();
    const graph = traceModelNativeGraph(model, [x]);
    try {
      assert.deepEqual(await tracedTempDirs(), dirsBefore, 'the SavedModel written for loading is removed');
      assert.ok(graph.summary.ops >= 6 && graph.summary.constants >= 8, JSON.stringify(graph.summary));
      assert.ok(graph.summary.maxScaledDifference <= SCALED_TOLERANCE, JSON.stringify(graph.summary));
      const x2 = tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 8);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(graph.execute([x2]));
      assert.equal(tf.memory().numTensors, before, 'execute leaks no tensor');
      const [y] = graph.execute([x2]);
      const expected = model.predict(x2) as tf.Tensor;
      assertClose(y!, expected, 'output');
      tf.dispose([x2, y!, expected]);
      assert.throws(() => graph.execute([tf.zeros([3, 12, 12, 3])]), /input 0 is float32 \[2, 12, 12, 3\], got float32 \[3, 12, 12, 3\]; trace another graph/);
    } finally {
      graph.dispose();
      x.dispose();
      model.dispose();
    }
  });

  it('keeps `parameters` as inputs fed their current values, and computes gradients in the graph', async () => {
    const w = tf.variable(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), true, 'traced_w');
    const x = tf.tensor2d([[1, -1, 0.5]]);
    const lossAndGradient = ([input]: readonly tf.Tensor[]) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.matMul(input!, w))), [w]);
      return [value, grads['traced_w']!];
    };
    const fed = traceNativeGraph(lossAndGradient, [x], { parameters: [w] });
    const frozen = traceNativeGraph(([input]) => [tf.matMul(input!, w)], [x]);
    try {
      const [loss, grad] = fed.execute([x]);
      // y = x w = [0.5, 1]; loss = 1.25; d loss / d w = x^T (2 y).
      assert.equal(loss!.dataSync()[0], 1.25);
      assert.deepEqual(Array.from(grad!.dataSync()), [1, 2, -1, -2, 0.5, 1]);
      w.assign(tf.tensor2d([[1, 0], [0, 1], [0, 0]]));
      const [loss2] = fed.execute([x]);
      assert.equal(loss2!.dataSync()[0], 2, 'the graph reads the weight as it is now');
      const [y] = frozen.execute([x]);
      assert.deepEqual(Array.from(y!.dataSync()), [0.5, 1], 'without parameters, the weight is the constant it was when traced');
      tf.dispose([loss!, grad!, loss2!, y!]);
    } finally {
      fed.dispose();
      frozen.dispose();
      tf.dispose([w, x]);
    }
  });

  it('writes the bias addition of a layer under a gradient tape as BiasAdd and its gradient as BiasAddGrad (rewrite: false keeps Add and Sum), with the same gradients', () => {
    const model = convNet();
    const x = tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 9);
    const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const gradients = ([input]: readonly tf.Tensor[]) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(model.apply(input!) as tf.Tensor), trainable);
      return [value, ...trainable.map((w) => grads[w.name]!)];
    };
    const parameters = model.weights.map((w) => w.read());
    const rewritten = traceNativeGraph(gradients, [x], { parameters });
    const plain = traceNativeGraph(gradients, [x], { parameters, rewrite: false });
    try {
      // The convolution's, the depthwise convolution's and the dense layer's biases.
      assert.equal(rewritten.summary.rewrites['BiasAdd'], 3, JSON.stringify(rewritten.summary.rewrites));
      // And their gradients, tfjs's sums over every axis but the channels.
      assert.equal(rewritten.summary.rewrites['BiasAddGrad'], 3, JSON.stringify(rewritten.summary.rewrites));
      // The dense layer's product, and its two gradient products, as MatMul.
      assert.equal(rewritten.summary.rewrites['MatMul'], 3, JSON.stringify(rewritten.summary.rewrites));
      assert.deepEqual(plain.summary.rewrites, {});
      const a = rewritten.execute([x]);
      const b = plain.execute([x]);
      const expected = gradients([x]);
      a.forEach((g, i) => {
        assertClose(g, expected[i]!, `rewritten output ${i}`);
        assertClose(b[i]!, expected[i]!, `plain output ${i}`);
      });
      tf.dispose([...a, ...b, ...expected]);
    } finally {
      rewritten.dispose();
      plain.dispose();
      x.dispose();
      model.dispose();
    }
  });

  it('writes products of one matrix each (tfjs\'s BatchMatMulV2 of rank 3) as MatMul, transposed either way, and leaves batched ones as traced', () => {
    const a = tf.randomNormal([6, 4], 0, 1, 'float32', 11);
    const b = tf.randomNormal([5, 4], 0, 1, 'float32', 12);
    const c = tf.randomNormal([6, 5], 0, 1, 'float32', 15);
    const batchA = tf.randomNormal([3, 6, 4], 0, 1, 'float32', 13);
    const batchB = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 14);
    const inputs = [a, b, c, batchA, batchB];
    const products = ([x, y, z, bx, by]: readonly tf.Tensor[]) => [
      tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, false, true),
      tf.matMul(x as tf.Tensor2D, z as tf.Tensor2D, true, false),
      tf.matMul(y as tf.Tensor2D, z as tf.Tensor2D, true, true),
      tf.matMul(bx as tf.Tensor3D, by as tf.Tensor3D),
    ];
    const graph = traceNativeGraph(products, inputs);
    try {
      assert.equal(graph.summary.rewrites['MatMul'], 3, JSON.stringify(graph.summary.rewrites));
      const got = graph.execute(inputs);
      const expected = products(inputs);
      got.forEach((g, i) => assertClose(g, expected[i]!, `product ${i}`));
      tf.dispose([...got, ...expected]);
    } finally {
      graph.dispose();
      tf.dispose(inputs);
    }
  });

  it('fills in the type attributes eager execution infers and a GraphDef must state', async () => {
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([10, 20, 30]);
    // AddV2 and Neg given no attribute: eager infers T from the inputs; the graph needs it written.
    const graph = traceNativeGraph((xs) => runTensorflowOp(tf.backend(), 'Neg', runTensorflowOp(tf.backend(), 'AddV2', [...xs], {}), {}), [a, b]);
    try {
      const [sum] = graph.execute([b, a]);
      assert.deepEqual(Array.from(sum!.dataSync()), [-11, -22, -33]);
      sum!.dispose();
    } finally {
      graph.dispose();
      tf.dispose([a, b]);
    }
  });

  it('takes values the host computes from constants, and refuses a kernel that reads its inputs\' values back to the host', async () => {
    const x = tf.tensor1d([1, -2, 3]);
    const fromConstants = traceNativeGraph(([input]) => {
      const scale = tf.max(tf.tensor1d([2, 5])).dataSync()[0]!; // read on the host, but fixed
      return [tf.mul(input!, tf.scalar(scale))];
    }, [x]);
    try {
      const [y] = fromConstants.execute([tf.tensor1d([1, 1, 1])]);
      assert.deepEqual(Array.from(y!.dataSync()), [5, 5, 5]);
      y!.dispose();
    } finally {
      fromConstants.dispose();
    }
    assert.throws(
      () =>
        traceNativeGraph(([input]) => {
          const largest = tf.max(tf.relu(input!)).dataSync()[0]!;
          return [tf.div(input!, tf.scalar(largest))];
        }, [x]),
      (error: unknown) => error instanceof TraceError && /a kernel read the output of Max \(op \d+\) back to the host while tracing/.test(error.message),
    );
    x.dispose();
  });

  it('writes the SavedModel where asked, and never over a file already there', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kb-traced-dir-'));
    const x = tf.tensor1d([1, 2]);
    try {
      const graph = traceNativeGraph(([input]) => [tf.neg(input!)], [x], { tempDir: dir });
      graph.dispose();
      assert.ok((await stat(path.join(dir, 'saved_model.pb'))).size > 0, 'kept where the caller asked');
      assert.throws(() => traceNativeGraph(([input]) => [tf.neg(input!)], [x], { tempDir: dir }), /EEXIST/);
    } finally {
      x.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('nativeGraphFunction traces once per input signature, reuses it, and disposes the least recently used past its limit', () => {
    const model = convNet();
    let traces = 0;
    const predict = nativeGraphFunction(
      ([x]) => {
        traces += 1;
        return [model.predict(x!) as tf.Tensor];
      },
      { maxGraphs: 2 },
    );
    const inputs = [1, 2, 3].map((batch) => tf.randomNormal([batch, 12, 12, 3], 0, 1, 'float32', batch));
    try {
      for (const x of [inputs[0]!, inputs[1]!, inputs[0]!]) {
        const [y] = predict([x]);
        const expected = model.predict(x) as tf.Tensor;
        assertClose(y!, expected, `batch ${x.shape[0]}`);
        tf.dispose([y!, expected]);
      }
      assert.equal(traces, 2, 'batch 1 was traced once and then reused');
      assert.deepEqual([...predict.graphs.keys()], ['float32[2,12,12,3]', 'float32[1,12,12,3]']);
      const evicted = predict.graphs.get('float32[2,12,12,3]')!;
      tf.dispose(predict([inputs[2]!]));
      assert.deepEqual([...predict.graphs.keys()], ['float32[1,12,12,3]', 'float32[3,12,12,3]']);
      assert.throws(() => evicted.execute([inputs[1]!]), /disposed/);
      assert.throws(() => nativeGraphFunction(() => [], { maxGraphs: 0 }), /maxGraphs must be a whole number of at least 1/);
    } finally {
      predict.dispose();
      tf.dispose(inputs);
      model.dispose();
    }
    assert.equal(predict.graphs.size, 0);
  });
});
