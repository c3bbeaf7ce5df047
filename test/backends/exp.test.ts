import assert from 'node:assert/strict';
import tf from '#tfjs';
import '../../src/runtime.js';
import { heapExp, simdExpCalls } from '../../src/backends/kernel-fixes/heap-exp.js';
import { replacedKernel } from '../../src/backends/kernel-fixes/index.js';
import { EXP_TABLE, expFloat32 } from '../../src/backends/wasm-simd/exp.js';
import { generator } from '../support/heap-cases.js';
import { sameBits } from '../support/same-bits.js';
import { onWasm } from '../support/backend-suite.js';

/**
 * float32 inputs for exp: every bit pattern drawn at random (NaNs, infinities, subnormals, both
 * signs), a sweep over [-110, 110] (past both bounds: underflow below -103.97, overflow above
 * 88.72), and the bounds' neighbours.
 */
function inputs(count: number): Float32Array {
  const pick = generator(271828);
  const random = new Uint32Array(count).map(() => pick(0x10000) * 0x10000 + pick(0x10000));
  const sweep = Array.from({ length: count }, (_, i) => -110 + (220 * i) / count);
  const edges = [0, -0, 1e-45, -1e-45, 88.72283172607422, 88.72283935546875, 88.7228, -103.97207641601562, -103.97208404541016, -87.3, Infinity, -Infinity, NaN];
  return Float32Array.from([...new Float32Array(random.buffer), ...sweep, ...edges]);
}

/** tfjs-backend-wasm's own Exp kernel (the one keras-bridge's replaced) on x. */
function tfjsExp(x: tf.Tensor): tf.Tensor {
  const own = replacedKernel('Exp', 'wasm');
  assert.ok(own, 'tfjs-backend-wasm\'s Exp kept as the fix\'s fallback');
  return tf.engine().makeTensorFromTensorInfo(own.kernelFunc({ inputs: { x }, backend: tf.backend(), attrs: {} }) as tf.TensorInfo);
}

describe('wasm: exp in SIMD, tfjs-backend-wasm\'s own routine (src/backends/wasm-simd/exp.ts, kernel-fixes/heap-exp.ts)', function () {
  onWasm({ activate: true });

  it('equals tfjs-backend-wasm\'s Exp bit for bit on random bit patterns, a sweep past both bounds and the edges, on every length and on threads', () => {
    const all = inputs(200_000);
    for (const length of [1, 3, 4, 7, 33, 4099, all.length]) {
      const xs = all.slice(all.length - length);
      const x = tf.tensor1d(xs);
      const before = simdExpCalls.count;
      const got = tf.exp(x);
      assert.equal(simdExpCalls.count - before, 1, 'ran in the SIMD kernel');
      const own = tfjsExp(x);
      sameBits(got.dataSync(), own.dataSync(), `length ${length}`);
      tf.dispose([x, got, own]);
    }
  });

  it('its inputs reach every entry of the table, and the JavaScript routine (the tail\'s) gives the same values', () => {
    const xs = inputs(20_000);
    const reached = new Set<number>();
    for (const x of xs) if (Math.abs(x) < 88) reached.add(Math.round((x * 32) / Math.LN2) & 31);
    assert.equal(reached.size, EXP_TABLE.length);
    const x = tf.tensor1d(xs);
    const own = tfjsExp(x);
    sameBits(xs.map(expFloat32), own.dataSync(), 'expFloat32');
    tf.dispose([x, own]);
  });

  it('on an int32 tensor, tfjs\'s own kernel runs', () => {
    const x = tf.tensor1d([0, 1, 2, -3, 10], 'int32');
    assert.equal(heapExp({ inputs: { x }, backend: tf.backend(), attrs: {} }), undefined);
    const before = simdExpCalls.count;
    const [got, own] = [tf.exp(x), tfjsExp(x)];
    assert.equal(simdExpCalls.count, before);
    assert.deepEqual(Array.from(got.dataSync()), Array.from(own.dataSync()));
    tf.dispose([x, got, own]);
  });
});
