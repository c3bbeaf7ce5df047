import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { activeBackendName, probeBackend, useBackend, type NodeBackendName } from '../../../src/backends/index.js';
import { convertKerasModel } from '../../../src/convert/convert-model.js';
import { weightsFromBundle } from '../../../src/convert/weight-source.js';
import { InputError } from '../../../src/errors.js';
import { loadBundle } from '../../../src/keras/bundle.js';
import { groupedConvolution, type ConvolutionGeometry } from '../../../src/layers/keras3/grouped-convolution.js';
import { KerasGroupedConv1D, KerasGroupedConv2D, KerasGroupedConv3D } from '../../../src/layers/keras3/index.js';
import { checkBundleParity } from '../../../src/parity/check-parity.js';
import { writeModelDirectory } from '../../../src/tfjs-io/model-directory.js';
import { swappedGroupKernels } from '../../support/fault-injection.js';
import { roundTripLayer } from '../../support/layer-harness.js';
import { FIXTURE_BUNDLES } from '../../support/paths.js';

/**
 * The definition of a grouped convolution, built another way: one ordinary convolution with a
 * block-diagonal kernel [..k, in, filters] that is zero wherever filter f's group does not read
 * input channel c. Dilation is passed to tfjs (forward only: tfjs cannot differentiate it).
 */
function blockDiagonalConvolution(x: tf.Tensor, kernel: tf.Tensor, groups: number, { strides, padding, dilations }: ConvolutionGeometry): tf.Tensor {
  const rank = kernel.rank - 2;
  const [perGroupIn, filters] = kernel.shape.slice(rank) as [number, number];
  const blocks = tf.split(kernel, groups, rank + 1).map((block, g) => {
    const pad = kernel.shape.map((): [number, number] => [0, 0]);
    pad[rank] = [g * perGroupIn, (groups - 1 - g) * perGroupIn];
    return tf.pad(block, pad);
  });
  const full = tf.concat(blocks, rank + 1);
  assert.equal(full.shape[rank + 1], filters);
  if (rank === 1) return tf.conv1d(x as tf.Tensor3D, full as tf.Tensor3D, strides[0]!, padding, 'NWC', dilations[0]!);
  if (rank === 2) return tf.conv2d(x as tf.Tensor4D, full as tf.Tensor4D, strides as [number, number], padding, 'NHWC', dilations as [number, number]);
  return tf.conv3d(x as tf.Tensor5D, full as tf.Tensor5D, strides as [number, number, number], padding, 'NDHWC', dilations as [number, number, number]);
}

interface OpCase {
  input: number[];
  kernel: number[];
  groups: number;
  geometry: ConvolutionGeometry;
}

const valid = (rank: number, stride = 1): ConvolutionGeometry => ({ strides: Array<number>(rank).fill(stride), padding: 'valid', dilations: Array<number>(rank).fill(1) });

// Shapes chosen so that every path runs: depthwise (one input channel per group) in 1D and 2D,
// split-and-concatenate in 1D, 2D and 3D, with strides, 'same' padding and dilation.
const OP_CASES: Record<string, OpCase> = {
  '2D depthwise, multiplier 2, stride 2, same': { input: [2, 7, 7, 3], kernel: [3, 3, 1, 6], groups: 3, geometry: { ...valid(2, 2), padding: 'same' } },
  '2D 3 groups of 2 channels, strides 2x1': { input: [2, 7, 6, 6], kernel: [3, 2, 2, 9], groups: 3, geometry: { ...valid(2), strides: [2, 1] } },
  '2D 2 groups, dilated 2, same': { input: [2, 7, 7, 4], kernel: [3, 3, 2, 4], groups: 2, geometry: { ...valid(2), padding: 'same', dilations: [2, 2] } },
  '1D depthwise, stride 2': { input: [2, 9, 4], kernel: [3, 1, 4], groups: 4, geometry: valid(1, 2) },
  '1D 2 groups, dilated 3': { input: [2, 11, 4], kernel: [2, 2, 6], groups: 2, geometry: { ...valid(1), dilations: [3] } },
  '3D 2 groups, stride 2, same': { input: [2, 4, 5, 4, 4], kernel: [3, 2, 3, 2, 4], groups: 2, geometry: { ...valid(3, 2), padding: 'same' } },
  '3D 2 groups, dilated 2x1x2, same': { input: [1, 4, 5, 5, 4], kernel: [2, 3, 2, 2, 4], groups: 2, geometry: { ...valid(3), padding: 'same', dilations: [2, 1, 2] } },
  '3D depthwise': { input: [1, 4, 4, 4, 2], kernel: [2, 2, 2, 1, 2], groups: 2, geometry: valid(3) },
};

const seeded = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);
const maxAbs = (a: tf.Tensor, b: tf.Tensor): number => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;

describe('grouped convolution (KerasGroupedConv1D/2D/3D)', () => {
  const backends: NodeBackendName[] = [];
  let previous: string | undefined;
  before(async () => {
    previous = activeBackendName();
    for (const name of ['cpu', 'wasm', 'tensorflow'] as const) if ((await probeBackend(name)).available) backends.push(name);
  });
  after(async () => {
    await tf.setBackend(previous ?? 'cpu');
  });

  it('equals one convolution with a block-diagonal kernel, and its gradients too, on every backend', async () => {
    for (const backend of backends) {
      await useBackend(backend);
      for (const [name, c] of Object.entries(OP_CASES)) {
        // TensorFlow's CPU Conv3D kernel refuses dilations ("Dilation depth must be 1"), so the
        // reference cannot run there; ours (dilation in the kernel) is checked against Keras by the zoo.
        if (backend === 'tensorflow' && c.kernel.length === 5 && c.geometry.dilations.some((d) => d > 1)) continue;
        tf.tidy(() => {
          const [x, kernel] = [seeded(c.input, 1), seeded(c.kernel, 2)];
          const ours = groupedConvolution(x, kernel, c.groups, c.geometry);
          const reference = blockDiagonalConvolution(x, kernel, c.groups, c.geometry);
          assert.deepEqual(ours.shape, reference.shape, `${backend} ${name}`);
          assert.ok(maxAbs(ours, reference) < 1e-5, `${backend} ${name}: output off by ${maxAbs(ours, reference)}`);
          if (c.geometry.dilations.some((d) => d > 1)) return;
          const weights = seeded(ours.shape, 3);
          const loss = (f: typeof groupedConvolution) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b, c.groups, c.geometry), weights));
          const [dx, dk] = tf.grads(loss(groupedConvolution))([x, kernel]);
          const [rx, rk] = tf.grads(loss(blockDiagonalConvolution))([x, kernel]);
          assert.ok(maxAbs(dx!, rx!) < 1e-4, `${backend} ${name}: input gradient off by ${maxAbs(dx!, rx!)}`);
          assert.ok(maxAbs(dk!, rk!) < 1e-4, `${backend} ${name}: kernel gradient off by ${maxAbs(dk!, rk!)}`);
        });
      }
    }
  });

  it("round-trips its config and has Keras's output and weight shapes", () => {
    const cases: Array<[tf.layers.Layer, number[], (number | null)[], number[][]]> = [
      [new KerasGroupedConv1D({ name: 'g', filters: 4, groups: 2, kernelSize: [3], padding: 'causal', dilationRate: [2] }), [9, 4], [null, 9, 4], [[3, 2, 4], [4]]],
      [new KerasGroupedConv2D({ name: 'g', filters: 6, groups: 3, kernelSize: [7, 7], padding: 'same', useBias: false }), [9, 9, 3], [null, 9, 9, 6], [[7, 7, 1, 6]]],
      [new KerasGroupedConv2D({ name: 'g', filters: 4, groups: 2, kernelSize: [3, 2], strides: [2, 1], dataFormat: 'channelsFirst', activation: 'relu' }), [4, 7, 6], [null, 4, 3, 5], [[3, 2, 2, 4], [4]]],
      [new KerasGroupedConv3D({ name: 'g', filters: 4, groups: 2, kernelSize: [3, 3, 3], strides: [2, 2, 2], padding: 'same' }), [4, 5, 4, 4], [null, 2, 3, 2, 4], [[3, 3, 3, 2, 4], [4]]],
    ];
    for (const [original, inputShape, outputShape, weightShapes] of cases) {
      const { layer, output } = roundTripLayer(original, inputShape);
      assert.deepEqual(output.shape, outputShape, original.getClassName());
      assert.deepEqual(layer.weights.map((w) => w.shape), weightShapes, original.getClassName());
    }
  });

  it('refuses groups that do not divide filters or the input channels, naming the layer and the field', () => {
    const refused = (make: () => unknown, pattern: RegExp) => assert.throws(make, (e: unknown) => e instanceof InputError && pattern.test(e.message));
    refused(() => new KerasGroupedConv2D({ name: 'g', filters: 5, groups: 2, kernelSize: [3, 3] }), /layer 'g' \(KerasGroupedConv2D\), field 'filters': 5 filters cannot be split into groups=2/);
    refused(() => new KerasGroupedConv2D({ name: 'g', filters: 4, groups: 2, kernelSize: [3, 3], padding: 'causal' }), /field 'padding': 'causal'/);
    refused(() => new KerasGroupedConv1D({ name: 'g', filters: 4, groups: 2, kernelSize: [3], strides: [2], dilationRate: [2] }), /field 'dilation_rate'/);
    const layer = new KerasGroupedConv2D({ name: 'g', filters: 6, groups: 3, kernelSize: [3, 3] });
    refused(() => layer.apply(tf.input({ shape: [5, 5, 4] })), /layer 'g' \(KerasGroupedConv2D\), field 'groups': the input's 4 channels cannot be split into groups=3/);
  });
});

// A fault planted in the converted weights (the filters of groups 0 and 1 swapped) must fail parity
// against Keras's goldens and be named at the grouped convolution, end to end and layer by layer.
describe('parity catches a grouped convolution with its groups swapped', function () {
  this.timeout(120_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-grouped-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  for (const [model, groups] of [['grouped_conv2d_groups2_stride2_same', 2], ['grouped_conv2d_convnext_block', 4]] as const) {
    it(`${model}: fails at conv2d on cpu and wasm; passes without the fault`, async () => {
      const bundleDir = path.join(FIXTURE_BUNDLES, 'zoo', 'conv', model);
      const bundle = await loadBundle(bundleDir);
      const converted = await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), model);
      const modelDir = path.join(tmp, model);
      await writeModelDirectory(modelDir, swappedGroupKernels('conv2d', groups)(converted));
      const faulty = await checkBundleParity({ bundleDir, modelDir }, { backends: ['cpu', 'wasm'] });
      assert.equal(faulty.outcome, 'fail');
      for (const backend of faulty.backends) {
        assert.equal(backend.firstDivergingLayer, 'conv2d', backend.backend);
        assert.deepEqual(backend.isolated.failingLayers, ['conv2d'], backend.backend);
        // End to end, gradients are off too. Alone, a first layer's kernel and bias gradients
        // do not depend on its kernel (x ⋆ dy, sum of dy), so its backward pass may pass; no other
        // layer's may fail.
        assert.ok(backend.tensors.some((t) => t.kind.startsWith('grad') && !t.comparison.passed), backend.backend);
        assert.ok(backend.isolated.gradients.failingLayers.every((l) => l === 'conv2d'), backend.backend);
      }
      assert.equal((await checkBundleParity(bundleDir, { backends: ['cpu', 'wasm'] })).outcome, 'pass');
    });
  }
});
