import assert from 'node:assert/strict';
import tf from '#tfjs';
import { kernelModuleBytes, wasmHeapKernels } from '../../src/backends/wasm-simd/wasm-heap-kernels.js';
import { productMultiplyAdd } from '../../src/backends/wasm-simd/relaxed-simd.js';
import { onWasm } from '../support/backend-suite.js';

// A module that does not validate sends every keras-bridge wasm kernel back to tfjs's own, which
// the kernels' tests see only as a path not taken or as slowness: this names the cause.
describe("keras-bridge's wasm kernel module (wasm-simd/wasm-heap-kernels.ts)", function () {
  onWasm({ activate: true });

  it('validates for a shared memory and an unshared one, multiply-adds apart and as this runtime runs them', () => {
    for (const shared of [true, false]) {
      for (const multiplyAdd of new Set(['separate', productMultiplyAdd()] as const)) {
        const { bytes, names } = kernelModuleBytes({ shared }, multiplyAdd);
        assert.ok(WebAssembly.validate(bytes), `the module (shared ${shared}, ${multiplyAdd} multiply-adds) does not validate`);
        assert.equal(new Set(names).size, names.length, 'each exported function has a name of its own');
      }
    }
  });

  it("instantiates on the wasm backend's memory once: the same kernels at every call", () => {
    const kernels = wasmHeapKernels(tf.backend());
    assert.ok(kernels, 'no kernels on the wasm backend');
    assert.equal(wasmHeapKernels(tf.backend()), kernels);
    assert.ok(kernels.padRowsIndex >= 0 && kernels.zeroBytesIndex >= 0 && kernels.clampVectorsIndex >= 0);
  });
});
