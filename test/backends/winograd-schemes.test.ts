import assert from 'node:assert/strict';
import { F2x2_3x3, F4x4_3x3, toomCookScheme, transposed, type WinogradScheme } from '../../src/backends/wasm-simd/winograd-schemes.js';
import { requestedWinogradScheme, WASM_WINOGRAD_VARIABLE } from '../../src/backends/kernel-fixes/winograd-conv2d.js';
import { generator } from '../support/heap-cases.js';

const times = (a: readonly (readonly number[])[], b: readonly (readonly number[])[]) => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));

/** Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A in float64. */
function winograd(scheme: WinogradScheme, d: number[][], g: number[][]): number[][] {
  const { inputTransform: bt, filterTransform: G, outputTransform: at } = scheme;
  const u = times(times(G, g), transposed(G));
  const v = times(times(bt, d), transposed(bt));
  const m = u.map((row, i) => row.map((x, j) => x * v[i]![j]!));
  return times(times(at, m), transposed(at));
}

describe('Winograd schemes from the Toom-Cook construction (src/backends/wasm-simd/winograd-schemes.ts)', () => {
  const pick = generator(77);
  const random = () => (pick(2001) - 1000) / 250;

  for (const [scheme, points] of [
    [F2x2_3x3, '0, ±1'],
    [F4x4_3x3, '0, ±1, ½, -2'],
    [toomCookScheme(4, [0, 1, -1, 2, -2]), '0, ±1, ±2'],
    [toomCookScheme(3, [0, 1, -1, 0.5]), '0, ±1, ½'],
  ] as const) {
    it(`${scheme.name} on ${points} is the 3x3 cross-correlation of each ${scheme.inputTile}x${scheme.inputTile} block (float64, 20 random blocks)`, () => {
      const m = scheme.outputTile;
      assert.equal(scheme.inputTile, m + 2);
      assert.equal(scheme.positions, (m + 2) ** 2);
      for (let trial = 0; trial < 20; trial++) {
        const d = Array.from({ length: m + 2 }, () => Array.from({ length: m + 2 }, random));
        const g = Array.from({ length: 3 }, () => Array.from({ length: 3 }, random));
        const y = winograd(scheme, d, g);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < m; j++) {
            let direct = 0;
            for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) direct += d[i + p]![j + q]! * g[p]![q]!;
            assert.ok(Math.abs(y[i]![j]! - direct) <= 1e-9 * (1 + Math.abs(direct)), `(${i}, ${j}): ${y[i]![j]} against ${direct}`);
          }
      }
    });
  }

  it("keeps the input transform's entries whole numbers (the halves of the point ½ go to G)", () => {
    for (const row of F4x4_3x3.inputTransform) for (const c of row) assert.ok(Number.isInteger(c), `${c}`);
    assert.deepEqual(F2x2_3x3.inputTransform.flat().map(Math.abs), [1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1]);
  });

  it('refuses a wrong number of points, or a repeated one', () => {
    assert.throws(() => toomCookScheme(4, [0, 1, -1, 2]), /F\(4x4, 3x3\) takes 5 distinct points/);
    assert.throws(() => toomCookScheme(2, [0, 1, 1]), /takes 3 distinct points/);
  });

  it(`${WASM_WINOGRAD_VARIABLE} picks the convolution's scheme, and names itself for any other value`, () => {
    assert.equal(requestedWinogradScheme({}), F4x4_3x3);
    assert.equal(requestedWinogradScheme(undefined), F4x4_3x3);
    assert.equal(requestedWinogradScheme({ [WASM_WINOGRAD_VARIABLE]: 'auto' }), F4x4_3x3);
    assert.equal(requestedWinogradScheme({ [WASM_WINOGRAD_VARIABLE]: ' 4 ' }), F4x4_3x3);
    assert.equal(requestedWinogradScheme({ [WASM_WINOGRAD_VARIABLE]: '2' }), F2x2_3x3);
    const refused = requestedWinogradScheme({ [WASM_WINOGRAD_VARIABLE]: '6' });
    assert.ok('invalid' in refused);
    assert.match(refused.invalid, /KERAS_BRIDGE_WASM_WINOGRAD="6": expected 4 or auto .* or 2/);
  });
});
