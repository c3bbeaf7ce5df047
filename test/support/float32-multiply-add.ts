import type { MultiplyAdd } from '../../src/backends/wasm-simd/relaxed-simd.js';

const bits = new Float32Array(1);
const word = new Int32Array(bits.buffer);

/** The float32 next to finite `x` (itself a float32) toward +∞ (`up`) or -∞. */
function float32Step(x: number, up: boolean): number {
  if (x === 0) return up ? 2 ** -149 : -(2 ** -149);
  bits[0] = x;
  word[0]! += x > 0 === up ? 1 : -1;
  return bits[0]!;
}

/**
 * a·b + c for float32 a, b and c, rounded to float32 once (a fused multiply-add), exactly: a·b is
 * exact in float64 (24 + 24 significant bits), the float64 sum s is off by an error e that TwoSum
 * gives exactly, and rounding s to float32 can differ from rounding s + e only where s lies
 * exactly halfway between two float32s (any float32 halfway point is a float64, so s + e cannot
 * cross one that s does not sit on); there e decides.
 */
export function fusedMultiplyAddFloat32(a: number, b: number, c: number): number {
  const product = a * b;
  const sum = product + c;
  const rounded = Math.fround(sum);
  if (!Number.isFinite(sum) || rounded === sum) return rounded;
  const virtual = sum - product;
  const error = product - (sum - virtual) + (c - virtual);
  if (error === 0) return rounded;
  const neighbour = float32Step(rounded, sum > rounded);
  if (Math.abs(sum - rounded) !== Math.abs(neighbour - sum)) return rounded;
  // A tie in float64 that the exact sum breaks: toward the error's side.
  return error > 0 === neighbour > rounded ? neighbour : rounded;
}

/** a·b + c in float32 as a kernel with `multiplyAdd` computes it: one rounding, or one after the multiply and one after the add. */
export function float32MultiplyAdd(a: number, b: number, c: number, multiplyAdd: MultiplyAdd): number {
  return multiplyAdd === 'fused' ? fusedMultiplyAddFloat32(a, b, c) : Math.fround(c + Math.fround(a * b));
}
