import assert from 'node:assert/strict';
import tf from '#tfjs';
import { activeBackendName, probeBackend, useBackend } from '../../src/backends/index.js';
import { guardWasmHeap, WasmHeapExhaustedError } from '../../src/backends/wasm-heap-guard.js';

// tfjs-backend-wasm 4.22 writes a tensor at address 0 when malloc fails; the guard makes it an error.
describe('wasm: out of memory is an error, not a corrupted heap (src/backends/wasm-heap-guard.ts)', function () {
  let previous: string | undefined;
  before(async function () {
    if (!(await probeBackend('wasm')).available) this.skip();
    previous = activeBackendName();
    await useBackend('wasm');
  });
  after(async function () {
    if (previous) await tf.setBackend(previous);
  });

  /** The backend still computes after the failure: its heap was not written over. */
  function assertBackendStillComputes(): void {
    const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync());
    assert.deepEqual(Array.from(product), [17, 39]);
  }

  it('a tensor the heap cannot grow to hold (malloc returns 0) throws WasmHeapExhaustedError and leaks nothing', function () {
    const before = tf.memory().numTensors;
    // 4 GiB less 4 bytes: below the 32-bit wrap, but no heap with anything in it can hold it.
    assert.throws(
      () => tf.fill([2 ** 30 - 1], 1),
      (error: unknown) =>
        error instanceof WasmHeapExhaustedError &&
        error.requestedBytes === 2 ** 32 - 4 &&
        /wasm backend is out of memory: a tensor of 4096 MB does not fit, the heap is at \d+ MB of the 4096 MB wasm32 can address \(\d+ tensors hold memory\)\. Run a smaller batch/.test(error.message),
    );
    assert.equal(tf.memory().numTensors, before);
    assertBackendStillComputes();
  });

  it('a tensor of 4 GiB or more (which tfjs would pass to malloc wrapped to a small size) is refused before malloc', function () {
    assert.throws(
      () => tf.fill([2 ** 30 + 16], 1),
      (error: unknown) => error instanceof WasmHeapExhaustedError && /larger than the 4096 MB wasm32 can address/.test(error.message),
    );
    assertBackendStillComputes();
  });

  it('says when the runtime refused to grow the heap below the 4 GiB limit', function () {
    const heap = new Uint8Array(64 * 2 ** 20);
    const fake = { wasm: { _malloc: (bytes: number) => bytes, asm: { malloc: (_bytes: number) => 0 }, HEAPU8: heap }, numDataIds: () => 3 };
    assert.equal(guardWasmHeap(fake as unknown as tf.KernelBackend), true);
    assert.throws(() => fake.wasm._malloc(1024), /a tensor of 1 KB does not fit, the heap could not grow beyond 64 MB \(3 tensors hold memory\): this runtime refused more memory/);
    assert.equal(guardWasmHeap(fake as unknown as tf.KernelBackend), true, 'guarding twice keeps one guard');
  });

  it('leaves backends that are not wasm alone', function () {
    assert.equal(guardWasmHeap(tf.findBackend('cpu') ?? undefined), false);
    assert.equal(guardWasmHeap(undefined), false);
  });
});
