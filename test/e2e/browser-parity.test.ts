import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { BROWSER_BACKENDS, backendDescriptor, browserBackend, registerBackendDescriptor } from '../../src/backends/index.js';
import { BrowserSession } from '../../src/browser/browser-session.js';
import { BackendError } from '../../src/errors.js';
import '../../src/layers/seed/index.js';
import { runParity } from '../../src/parity/run-parity.js';
import { FIXTURE_BUNDLES, fixtureBundle, SEED_BUNDLES } from '../support/paths.js';

describe('parity in headless Chromium: cpu, wasm, webgl, webgl with float16 textures and webgpu in a real page', function () {
  // Five backends on four models; Chromium on 2 shared cores can take minutes.
  this.timeout(360_000);

  it('the seed models and the two-branch model match Keras on every browser backend, end to end and layer by layer', async () => {
    const run = await runParity([...SEED_BUNDLES, 'two_branch'].map(fixtureBundle), {
      backends: [...BROWSER_BACKENDS],
      requireAllBackends: true,
      customLayerModules: ['keras-bridge/layers/seed'],
    });
    const failures = run.models.flatMap((m) =>
      m.backends.flatMap((b) => [...b.tensors, ...b.isolated.tensors, ...b.isolated.gradients.tensors].filter((t) => !t.comparison.passed).map((t) => `${m.model} ${b.backend} ${t.label}`)),
    );
    assert.deepEqual(failures, []);
    assert.deepEqual(run.models[0]!.backends.map((b) => b.backend), ['chromium-cpu', 'chromium-wasm', 'chromium-webgl', 'chromium-webgl-f16', 'chromium-webgpu']);
    // Float16 textures pass with their own, measured tolerance; float32 WebGL with the float32 one.
    const f16 = run.models[0]!.backends.find((b) => b.backend === 'chromium-webgl-f16')!;
    assert.deepEqual(f16.tensors[0]!.comparison.tolerance, { atol: 1e-2, rtol: 1e-2 });
    const f32 = run.models[0]!.backends.find((b) => b.backend === 'chromium-webgl')!;
    assert.deepEqual(f32.tensors[0]!.comparison.tolerance, { atol: 5e-6, rtol: 1e-4 });
    // WebGPU (SwiftShader's Vulkan here) computes in float32: the float32 defaults, or its descriptor's measured floor.
    const webgpu = run.models[0]!.backends.find((b) => b.backend === 'chromium-webgpu')!;
    const floor = backendDescriptor('chromium-webgpu')!.toleranceFloor ?? { atol: 0, rtol: 0 };
    assert.deepEqual(webgpu.tensors[0]!.comparison.tolerance, { atol: Math.max(5e-6, floor.atol), rtol: Math.max(1e-4, floor.rtol) });
    for (const m of run.models) {
      for (const b of m.backends) {
        assert.ok(b.tensors.some((t) => t.kind === 'grad_weight'), `${m.model} ${b.backend} has gradients`);
        assert.ok(b.isolated.gradients.tensors.length > 0, `${m.model} ${b.backend} has layer-isolated gradients`);
      }
    }
  });

  // Grouped convolutions run as keras-bridge's own layers, with dilation spelled out in the kernel:
  // the dilated ones once failed to compile a WebGL shader (a rank-5 packed pad).
  it('grouped convolutions (dilated Conv1D and Conv3D, a ConvNeXt block) match Keras on chromium-wasm and chromium-webgl, gradients included', async () => {
    const models = ['grouped_conv1d_groups2_causal_dilated', 'grouped_conv2d_convnext_block', 'grouped_conv3d_groups2_dilated_same'];
    const run = await runParity(models.map((m) => path.join(FIXTURE_BUNDLES, 'zoo', 'conv', m)), {
      backends: ['chromium-wasm', 'chromium-webgl'],
      requireAllBackends: true,
    });
    const failures = run.models.flatMap((m) =>
      m.backends.flatMap((b) => [...b.tensors, ...b.isolated.tensors, ...b.isolated.gradients.tensors].filter((t) => !t.comparison.passed).map((t) => `${m.model} ${b.backend} ${t.label}`)),
    );
    assert.deepEqual(failures, []);
    for (const m of run.models) for (const b of m.backends) assert.ok(b.tensors.some((t) => t.kind === 'grad_weight'), `${m.model} ${b.backend} has gradients`);
  });

  it("chromium-wasm's page is cross-origin isolated and runs XNNPACK on one thread per core (at most 8), not tfjs's half", async () => {
    const session = new BrowserSession([]);
    try {
      const page = await session.runTask<{ threads: number; isolated: boolean }>(
        fixtureBundle('swish'),
        'chromium-wasm',
        { module: '/dist/test/support/page-wasm-threads-probe.js', name: 'wasmThreadsInPage', args: {} },
        'reading the threads',
        { timeoutS: 120 },
      );
      assert.deepEqual(page, { threads: Math.min(os.cpus().length, 8), isolated: true });
    } finally {
      await session.close();
    }
  });

  it("chromium-wasm's page has the out-of-memory check too: a tensor the heap cannot hold is a WasmHeapExhaustedError, and the backend still computes", async () => {
    const session = new BrowserSession([]);
    try {
      const page = await session.runTask<{ error: string; message: string; stillComputes: number[] }>(
        fixtureBundle('swish'),
        'chromium-wasm',
        { module: '/dist/test/support/page-wasm-heap-probe.js', name: 'wasmHeapInPage', args: {} },
        'allocating 4 GB',
        { timeoutS: 120 },
      );
      assert.equal(page.error, 'WasmHeapExhaustedError', page.message);
      assert.match(page.message, /the wasm backend is out of memory: a tensor of 4096 MB does not fit/);
      assert.deepEqual(page.stillComputes, [17, 39]);
    } finally {
      await session.close();
    }
  });

  it('a faulty layer module is loaded into the page too, and the page names the faulty layer in both modes', async () => {
    const run = await runParity([fixtureBundle('two_branch')], {
      backends: ['chromium-cpu', 'chromium-webgl'],
      requireAllBackends: true,
      customLayerModules: ['dist/test/support/faulty-seed-layers.js'],
    });
    assert.equal(run.outcome, 'fail');
    for (const b of run.models[0]!.backends) {
      assert.equal(b.firstDivergingLayer, 'swish_left', b.backend);
      assert.deepEqual(b.isolated.failingLayers, ['swish_left'], b.backend);
    }
  });

  it('a WebGPU backend in a Chromium launched without WebGPU says that WebGPU is missing', async () => {
    // The chromium-webgpu descriptor without its launch arguments, registered like any user's backend.
    registerBackendDescriptor({ ...browserBackend('chromium-webgpu')!, name: 'chromium-webgpu-off', chromiumArgs: ['--disable-features=Vulkan'] });
    await assert.rejects(
      runParity([fixtureBundle('swish')], { backends: ['chromium-webgpu-off'], requireAllBackends: true, customLayerModules: ['keras-bridge/layers/seed'] }),
      (error: unknown) => {
        assert.ok(error instanceof BackendError);
        assert.match(error.message, /^chromium-webgpu-off: .*WebGPU is unavailable: navigator\.gpu/);
        return true;
      },
    );
  });
});
