import assert from 'node:assert/strict';

/** The same float32 bits, element by element (a NaN against any NaN: its sign and payload carry nothing, and x64 and JavaScript make different ones). */
export function sameBits(got: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const [a, b] = [new Uint32Array(Float32Array.from(got).buffer), new Uint32Array(Float32Array.from(expected).buffer)];
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(got[i]) && Number.isNaN(expected[i]))) assert.fail(`${what}: element ${i}: ${got[i]} against ${expected[i]}`);
}
