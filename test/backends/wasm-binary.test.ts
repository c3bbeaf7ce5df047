import assert from 'node:assert/strict';
import { Code, I32, signedLeb128, unsignedLeb128, V128, wasmModule } from '../../src/backends/wasm-simd/wasm-binary.js';

describe('wasm-binary: the WebAssembly module writer of keras-bridge\'s heap kernels', () => {
  it('LEB128 as the WebAssembly specification encodes it', () => {
    assert.deepEqual(unsignedLeb128(0), [0x00]);
    assert.deepEqual(unsignedLeb128(127), [0x7f]);
    assert.deepEqual(unsignedLeb128(128), [0x80, 0x01]);
    assert.deepEqual(unsignedLeb128(624485), [0xe5, 0x8e, 0x26]);
    assert.deepEqual(unsignedLeb128(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert.deepEqual(signedLeb128(0), [0x00]);
    assert.deepEqual(signedLeb128(-1), [0x7f]);
    assert.deepEqual(signedLeb128(63), [0x3f]);
    assert.deepEqual(signedLeb128(64), [0xc0, 0x00]);
    assert.deepEqual(signedLeb128(-123456), [0xc0, 0xbb, 0x78]);
    assert.throws(() => unsignedLeb128(-1), RangeError);
    assert.throws(() => signedLeb128(2 ** 31), RangeError);
  });

  it('a module that WebAssembly validates, imports its memory and computes', () => {
    // copy16(src, dst): one v128 from src to dst, its 32-bit lanes reversed.
    const body = new Code().get(1).get(0).v128Load().get(0).v128Load().shuffle32([3, 2, 1, 0]).v128Store();
    const bytes = wasmModule({ shared: false }, [{ name: 'copy16', params: [I32, I32], locals: [V128], body }]);
    assert.ok(WebAssembly.validate(bytes));
    const memory = new WebAssembly.Memory({ initial: 1 });
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const heap = new Int32Array(memory.buffer);
    heap.set([1, 2, 3, 4], 4);
    (exports['copy16'] as (src: number, dst: number) => void)(16, 64);
    assert.deepEqual([...heap.subarray(16, 20)], [4, 3, 2, 1]);
  });

  it('refuses a shuffle lane out of range', () => {
    assert.throws(() => new Code().shuffle32([0, 1, 2, 8]), /0 to 7/);
  });
});
