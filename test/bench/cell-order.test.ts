import assert from 'node:assert/strict';
import { timingOrder } from '../../src/bench/cell-order.js';

describe('npm run bench: the order of a model\'s cells', () => {
  it('times tensorflow first, nearest Keras, and keeps the other backends in the order given', () => {
    assert.deepEqual(timingOrder(['cpu', 'wasm', 'tensorflow', 'chromium-wasm']), ['tensorflow', 'cpu', 'wasm', 'chromium-wasm']);
    assert.deepEqual(timingOrder(['wasm', 'cpu']), ['wasm', 'cpu']);
    assert.deepEqual(timingOrder([]), []);
  });
});
