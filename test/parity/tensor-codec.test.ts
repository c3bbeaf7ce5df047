import assert from 'node:assert/strict';
import { decodeEvaluation, encodeEvaluation } from '../../src/parity/tensor-codec.js';

describe('tensor codec (a browser page\'s evaluation crossing to Node)', () => {
  it('round-trips Maps of tensors at any depth, each typed array with its dtype and bytes', () => {
    const evaluation = {
      'end-to-end': { computed: new Map([['output:0', { shape: [2], values: new Float32Array([1.5, -0.25]) }]]), gradientsNotCompared: null },
      'layer-alone-forward': { computed: new Map([['layer_output:a:0:0', { shape: [3], values: new Int32Array([7, -8, 2 ** 31 - 1]) }]]), skipped: [{ layer: 'm', reason: 'mask' }] },
      'after-training': { steps: 3, runs: [{ computed: new Map([['trained_weight:d:0', { shape: [1], values: new Uint8Array([1]) }]]), losses: [0.5] }] },
      training: null,
    };
    const travelled = JSON.parse(JSON.stringify(encodeEvaluation(evaluation)));
    assert.deepEqual(decodeEvaluation(travelled), evaluation);
  });

  it('keeps float32 bits exactly (NaN, -0, subnormals) and reads a view into a larger buffer at its offset', () => {
    const buffer = new Float32Array([9, NaN, -0, 1e-45, Infinity, 9]).buffer;
    const view = new Float32Array(buffer, 4, 4);
    const decoded = decodeEvaluation(JSON.parse(JSON.stringify(encodeEvaluation(view)))) as Float32Array;
    assert.ok(decoded instanceof Float32Array);
    assert.deepEqual(new Uint8Array(decoded.buffer), new Uint8Array(buffer, 4, 16));
  });

  it('drops undefined fields as JSON would, and refuses a typed array it cannot name', () => {
    assert.deepEqual(decodeEvaluation(encodeEvaluation({ a: 1, b: undefined })), { a: 1 });
    assert.throws(() => encodeEvaluation(new Float64Array(1)), /cannot encode a Float64Array/);
  });
});
