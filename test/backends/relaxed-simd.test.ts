import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { invalidWasmFmaSetting, productMultiplyAdd, WASM_FMA_VARIABLE } from '../../src/backends/wasm-simd/relaxed-simd.js';
import { float32MultiplyAdd, fusedMultiplyAddFloat32 } from '../support/float32-multiply-add.js';
import { generator } from '../support/heap-cases.js';
import { REPO_ROOT } from '../support/paths.js';

const RELAXED_SIMD = path.join(REPO_ROOT, 'dist', 'src', 'backends', 'wasm-simd', 'relaxed-simd.js');
const BACKENDS_INDEX = path.join(REPO_ROOT, 'dist', 'src', 'backends', 'index.js');

/** A finite, normal float32 as significand · 2^exponent with an integer significand (BigInt). */
function exactParts(value: number): { significand: bigint; exponent: number } {
  if (value === 0) return { significand: 0n, exponent: 0 };
  let exponent = Math.floor(Math.log2(Math.abs(value))) - 23;
  // Math.log2 may be off by one near powers of two: the significand must be an integer below 2^24.
  while (!Number.isInteger(value / 2 ** exponent)) exponent--;
  while (Math.abs(value / 2 ** exponent) >= 2 ** 24) exponent++;
  return { significand: BigInt(value / 2 ** exponent), exponent };
}

/** a·b + c rounded once to float32 (ties to even), in exact integer arithmetic: the reference for the float64 shortcut under test. */
function exactFusedMultiplyAdd(a: number, b: number, c: number): number {
  const [pa, pb, pc] = [exactParts(a), exactParts(b), exactParts(c)];
  const productExponent = pa.exponent + pb.exponent;
  const low = Math.min(productExponent, pc.exponent);
  const sum = pa.significand * pb.significand * 2n ** BigInt(productExponent - low) + pc.significand * 2n ** BigInt(pc.exponent - low);
  if (sum === 0n) return 0;
  const negative = sum < 0n;
  let magnitude = negative ? -sum : sum;
  let exponent = low;
  // Keep 24 significant bits, rounding the rest to nearest, ties to even.
  const bits = magnitude.toString(2).length;
  if (bits > 24) {
    const drop = BigInt(bits - 24);
    const kept = magnitude >> drop;
    const rest = magnitude - (kept << drop);
    const half = 1n << (drop - 1n);
    magnitude = rest > half || (rest === half && (kept & 1n) === 1n) ? kept + 1n : kept;
    exponent += bits - 24;
  }
  const value = Number(magnitude) * 2 ** exponent;
  return Math.fround(negative ? -value : value);
}

describe('wasm: relaxed SIMD multiply-add in the product tiles (src/backends/wasm-simd/relaxed-simd.ts)', () => {
  it('the test reference rounds a·b + c once, exactly: 20,000 random float32 triples and crafted ties against integer arithmetic', () => {
    const pick = generator(4242);
    const random = () => Math.fround((pick(2 ** 20) - 2 ** 19) * 2 ** (pick(20) - 30));
    const triples: Array<[number, number, number]> = Array.from({ length: 20000 }, () => [random(), random(), random()]);
    // Products a float32 rounds at a tie, plus addends that leave the tie in float64 or break it below float64's precision.
    for (let i = 1; i < 200; i++) {
      const a = Math.fround(1 + i * 2 ** -12);
      triples.push([a, a, -Math.fround(a * a)], [a, a, 2 ** -60], [a, a, -(2 ** -60)], [a, -a, Math.fround(1 + 2 ** -23)]);
    }
    triples.push([1 + 2 ** -12, 1 + 2 ** -12, -(1 + 2 ** -11)]);
    let differFromSeparate = 0;
    for (const [a, b, c] of triples) {
      const expected = exactFusedMultiplyAdd(a, b, c);
      assert.ok(Object.is(fusedMultiplyAddFloat32(a, b, c), expected) || (expected === 0 && fusedMultiplyAddFloat32(a, b, c) === 0), `${a}·${b} + ${c}: ${fusedMultiplyAddFloat32(a, b, c)} against ${expected}`);
      if (float32MultiplyAdd(a, b, c, 'separate') !== expected) differFromSeparate++;
    }
    // The cases tell one rounding from two: a kernel that multiplied and added apart would fail them.
    assert.ok(differFromSeparate > 1000, `only ${differFromSeparate} cases where one rounding and two differ`);
    assert.equal(fusedMultiplyAddFloat32(1 + 2 ** -12, 1 + 2 ** -12, -(1 + 2 ** -11)), 2 ** -24);
  });

  it('fuses on a CPU with FMA3 (every x64 CI machine); a CPU without it keeps the multiply and the add apart', function () {
    const mode = productMultiplyAdd();
    assert.ok(mode === 'fused' || mode === 'separate');
    const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
    const hasFma = process.arch === 'x64' && /^flags\s*:.*\bfma\b/m.test(cpuinfo);
    if (!hasFma) this.skip();
    assert.equal(mode, 'fused');
  });

  it(`${WASM_FMA_VARIABLE}=0 keeps them apart; other values are refused by name, and the wasm backend does not start`, () => {
    const run = (value: string, script: string) => spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, [WASM_FMA_VARIABLE]: value } });
    const mode = run('0', `const { productMultiplyAdd } = await import(${JSON.stringify(RELAXED_SIMD)}); console.log(productMultiplyAdd());`);
    assert.equal(mode.status, 0, mode.stderr);
    assert.equal(mode.stdout.trim(), 'separate');
    for (const accepted of ['', '0', '1', 'auto', ' 1 ']) assert.equal(invalidWasmFmaSetting({ [WASM_FMA_VARIABLE]: accepted }), undefined, accepted);
    assert.match(invalidWasmFmaSetting({ [WASM_FMA_VARIABLE]: 'yes' }) ?? '', /KERAS_BRIDGE_WASM_FMA="yes": expected 0 .*1 or auto/);
    const refused = run('yes', `const { useBackend } = await import(${JSON.stringify(BACKENDS_INDEX)}); try { await useBackend('wasm'); console.log('started'); } catch (error) { console.log(String(error.message)); }`);
    assert.equal(refused.status, 0, refused.stderr);
    assert.match(refused.stdout, /KERAS_BRIDGE_WASM_FMA="yes"/);
  });
});
