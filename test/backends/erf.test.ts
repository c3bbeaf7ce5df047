import assert from 'node:assert/strict';
import tf from '#tfjs';
import { simdErfCalls } from '../../src/backends/kernel-fixes/heap-erf.js';
import { erfFloat32 } from '../../src/backends/wasm-simd/erf.js';
import { generator } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

/**
 * erf in float64: its Taylor series below 2.5 (the largest term about 83, so 14 digits remain),
 * 1 - erfc from erfc's continued fraction above (evaluated from 200 levels down).
 */
function erf64(x: number): number {
  const a = Math.abs(x);
  let result: number;
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    result = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let fraction = a;
    for (let n = 200; n >= 1; n--) fraction = a + n / 2 / fraction;
    result = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction;
  }
  return x < 0 || Object.is(x, -0) ? -result : result;
}

/** Units in the last place between two float32 values of the same sign. */
function ulps(a: number, b: number): number {
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  return Math.abs(bits[0]! - bits[1]!);
}

/** Values over erf's whole float32 range: uniform in [-4.5, 4.5], tiny ones, and the edges. */
function inputs(count: number): Float32Array {
  const pick = generator(271828);
  const values = Array.from({ length: count }, (_, i) => (i % 7 === 6 ? (pick(2) ? 1 : -1) * Math.exp(-pick(60000) / 1000) : (pick(900001) - 450000) / 100000));
  return Float32Array.from([...values, 0, -0, 4, -4, 3.92, 10, -10, 1e-30, -1e-30, 1e-45, Infinity, -Infinity, NaN]);
}

describe('wasm: erf in SIMD (src/backends/wasm-simd/erf.ts, kernel-fixes/heap-erf.ts)', function () {
  onWasm({ activate: true });

  it('the float64 reference agrees with erf\'s known values', () => {
    const known: Array<[number, number]> = [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2.5, 0.999593047982555], [3, 0.9999779095030014], [-1.5, -0.9661051464753108]];
    for (const [x, value] of known) assert.ok(Math.abs(erf64(x) - value) <= 2e-16, `erf(${x}) = ${erf64(x)}`);
  });

  it('the rational function is within 6 units in the last place of erf rounded to float32 (0.76 on average, scripts/fit_erf_rational.py)', () => {
    const xs = inputs(200_000).filter(Number.isFinite);
    let worst = 0;
    let total = 0;
    for (const x of xs) {
      const distance = ulps(erfFloat32(x), Math.fround(erf64(x)));
      worst = Math.max(worst, distance);
      total += distance;
    }
    assert.ok(worst <= 6, `${worst} ulps`);
    assert.ok(total / xs.length < 1, `${total / xs.length} ulps on average`);
  });

  it('the SIMD kernel equals the same float32 operations bit for bit, edges included (±0, ±Infinity, NaN), on every length and on threads', () => {
    const all = inputs(300_000);
    for (const length of [1, 3, 4, 7, 33, all.length]) {
      const xs = all.slice(all.length - length);
      const before = simdErfCalls.count;
      const got = tf.tidy(() => tf.erf(tf.tensor1d(xs)).dataSync());
      assert.equal(simdErfCalls.count - before, 1, 'ran in the SIMD kernel');
      xs.forEach((x, i) => assert.ok(Object.is(got[i], Math.fround(erfFloat32(x))), `erf(${x}): ${got[i]} against ${erfFloat32(x)}`));
    }
    const edges = tf.tidy(() => tf.erf(tf.tensor1d([0, -0, Infinity, -Infinity, NaN, 4, -4])).dataSync());
    assert.deepEqual(Array.from(edges), [0, -0, 1, -1, NaN, 1, -1]);
  });
});
