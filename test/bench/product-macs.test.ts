import assert from 'node:assert/strict';
import tf from '#tfjs';
import { countProductMacs, passProductMacs, PRODUCT_KERNELS } from '../../src/bench/product-macs.js';
import { onCpu } from '../support/backend-suite.js';

// The multiply-adds the bench sets against Keras's time and wasm's peak, counted from the kernels a
// pass dispatches; each expected figure below is worked out by hand from the shapes.
describe('product multiply-adds of a pass (bench)', function () {
  onCpu();

  it("counts a model's convolutions, depthwise convolutions and Dense products, and nothing else", async () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const depthwise = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'valid' }).apply(conv) as tf.SymbolicTensor;
    const dense = tf.layers.dense({ units: 5 }).apply(tf.layers.flatten().apply(depthwise) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: dense });
    const x = tf.randomNormal([2, 8, 8, 3]);
    const macs = await passProductMacs(() => model.predict(x));
    // Per example: 8·8·4 outputs × 3·3·3 taps; 6·6·4 outputs × 3·3; 144 inputs × 5 units.
    assert.equal(macs.total, 2 * (8 * 8 * 4 * 27 + 6 * 6 * 4 * 9 + 144 * 5));
    for (const name of Object.keys(macs.byKernel)) assert.ok(name in PRODUCT_KERNELS, name);
    assert.equal(Object.values(macs.byKernel).reduce((a, b) => a + b, 0), macs.total);
    tf.dispose(x);
    model.dispose();
  });

  it('finds the depth of a matrix product whichever operand is transposed, per batch', async () => {
    const a = tf.ones([4, 3]);
    const aT = tf.ones([3, 4]);
    const b = tf.ones([3, 7]);
    assert.equal((await passProductMacs(() => tf.matMul(a, b))).total, 4 * 7 * 3);
    assert.equal((await passProductMacs(() => tf.matMul(aT, b, true, false))).total, 4 * 7 * 3);
    assert.equal((await passProductMacs(() => tf.matMul(tf.ones([2, 4, 3]), tf.ones([2, 7, 3]), false, true))).total, 2 * 4 * 7 * 3);
    tf.dispose([a, aT, b]);
  });

  it("counts a convolution's input and filter gradients as the forward pass's products each", async () => {
    const x = tf.randomNormal([1, 5, 5, 2]);
    const filter = tf.randomNormal([3, 3, 2, 3]);
    const forward = 5 * 5 * 3 * (3 * 3 * 2);
    assert.equal((await passProductMacs(() => tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'))).total, forward);
    const gradients = await passProductMacs(() => tf.grads((xs: tf.Tensor, fs: tf.Tensor) => tf.conv2d(xs as tf.Tensor4D, fs as tf.Tensor4D, 1, 'same').sum())([x, filter]));
    assert.equal(gradients.byKernel['Conv2DBackpropInput'], forward);
    assert.equal(gradients.byKernel['Conv2DBackpropFilter'], forward);
    const depthwise = tf.randomNormal([3, 3, 2, 1]);
    const depthwiseGradients = await passProductMacs(() => tf.grads((xs: tf.Tensor, fs: tf.Tensor) => tf.depthwiseConv2d(xs as tf.Tensor4D, fs as tf.Tensor4D, 1, 'valid').sum())([x, depthwise]));
    assert.equal(depthwiseGradients.byKernel['DepthwiseConv2dNative'], 3 * 3 * 2 * 9);
    assert.equal(depthwiseGradients.byKernel['DepthwiseConv2dNativeBackpropInput'], 3 * 3 * 2 * 9);
    assert.equal(depthwiseGradients.byKernel['DepthwiseConv2dNativeBackpropFilter'], 3 * 3 * 2 * 9);
    tf.dispose([x, filter, depthwise]);
  });

  it('counts elementwise kernels, and records without the shapes it needs, as none', () => {
    assert.deepEqual(countProductMacs([{ name: 'Relu', inputShapes: [[4, 4]], outputShapes: [[4, 4]] }, { name: 'Add', inputShapes: [[4], [4]], outputShapes: [[4]] }]), { total: 0, byKernel: {} });
    assert.deepEqual(countProductMacs([{ name: 'Conv2D', inputShapes: [[1, 4, 4, 1], null], outputShapes: [[1, 4, 4, 1]] }]), { total: 0, byKernel: {} });
  });

  it('leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const a = tf.ones([4, 3]);
    await passProductMacs(() => tf.matMul(a, a, false, true));
    a.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
