import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BackendUnavailableError } from '../../src/backends/index.js';
import { BUILT_POOL_SPIN, DEFAULT_POOL_SPIN, requestedPoolSpin, withPoolSpin } from '../../src/backends/wasm-threads/pool-spin.js';

const require = createRequire(import.meta.url);
const threadedBinary = () => readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm'));

/** Offsets where two byte arrays of one length differ. */
function differences(a: Uint8Array, b: Uint8Array): number[] {
  assert.equal(a.length, b.length);
  const at: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) at.push(i);
  return at;
}

/** A signed LEB128 read at `at`. */
function readSignedLeb(bytes: Uint8Array, at: number): { value: number; length: number } {
  let value = 0;
  let shift = 0;
  let length = 0;
  for (;;) {
    const byte = bytes[at + length]!;
    length++;
    value |= (byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) === 0) {
      if (shift < 32 && byte & 0x40) value |= -1 << shift;
      return { value, length };
    }
  }
}

describe("XNNPACK pool's idle spin (src/backends/wasm-threads/pool-spin.ts)", function () {
  it('spins DEFAULT_POOL_SPIN times unless KERAS_BRIDGE_WASM_POOL_SPIN says otherwise', function () {
    assert.equal(requestedPoolSpin({}), DEFAULT_POOL_SPIN);
    assert.equal(requestedPoolSpin({ KERAS_BRIDGE_WASM_POOL_SPIN: 'auto' }), DEFAULT_POOL_SPIN);
    assert.equal(requestedPoolSpin({ KERAS_BRIDGE_WASM_POOL_SPIN: ' 0 ' }), 0);
    assert.equal(requestedPoolSpin({ KERAS_BRIDGE_WASM_POOL_SPIN: '1000000' }), BUILT_POOL_SPIN);
  });

  it('refuses a spin it cannot set, naming the variable', function () {
    for (const bad of ['-1', '1000001', '1e4', '10.5', 'long']) {
      assert.throws(
        () => requestedPoolSpin({ KERAS_BRIDGE_WASM_POOL_SPIN: bad }),
        (e: unknown) => e instanceof BackendUnavailableError && /KERAS_BRIDGE_WASM_POOL_SPIN="[^"]*": expected 'auto' or a whole number of spins from 0 to 1000000/.test(e.message),
        bad,
      );
    }
  });

  it("rewrites only the workers' spin count in tfjs's threaded build, keeping a valid module of the same length", function () {
    const built = threadedBinary();
    for (const spins of [0, 1, 127, 128, DEFAULT_POOL_SPIN, 2 ** 20 - 1]) {
      const copy = withPoolSpin(built, spins);
      assert.ok(copy, `the wait for work was not found in tfjs-backend-wasm's threaded build (spins ${spins})`);
      const changed = differences(built, copy);
      assert.ok(changed.length >= 1 && changed.length <= 3, `${changed.length} bytes changed`);
      // The changed bytes lie in one i32.const immediate, once 1,000,000 and now the spins asked for.
      const first = changed[0]!;
      const immediateAt = [first, first - 1, first - 2].find((at) => built[at - 1] === 0x41 && readSignedLeb(built, at).value === BUILT_POOL_SPIN);
      assert.ok(immediateAt !== undefined, 'the bytes changed are not an i32.const of 1000000');
      assert.deepEqual(readSignedLeb(built, immediateAt), { value: BUILT_POOL_SPIN, length: 3 });
      assert.deepEqual(readSignedLeb(copy, immediateAt), { value: spins, length: 3 });
      assert.ok(changed.every((at) => at >= immediateAt && at < immediateAt + 3));
      assert.ok(WebAssembly.validate(copy), `the module with ${spins} spins does not validate`);
    }
    assert.ok(built.equals(withPoolSpin(built, BUILT_POOL_SPIN)!), 'the built spin did not give back the built module');
  });

  it('leaves a module alone where the wait is not found exactly once', function () {
    const built = threadedBinary();
    const offset = differences(built, withPoolSpin(built, 0)!)[0]!;
    const wait = Buffer.from(built.subarray(offset - 16, offset + 16));
    assert.ok(withPoolSpin(wait, 0), 'the wait alone is found');
    assert.equal(withPoolSpin(Buffer.concat([wait, wait]), 0), undefined, 'two waits are not a build this knows');
    // The same count before another flag's test is some other loop.
    const otherFlag = Buffer.from(wait);
    const flagAt = otherFlag.indexOf(Buffer.from([0x41, 0x02, 0x71, 0x45]), 16);
    assert.ok(flagAt > 16);
    otherFlag[flagAt + 1] = 0x04;
    assert.equal(withPoolSpin(otherFlag, 0), undefined);
    assert.equal(withPoolSpin(new Uint8Array(0), 0), undefined);
  });
});
