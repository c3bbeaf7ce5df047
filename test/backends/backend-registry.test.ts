import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BROWSER_BACKENDS, BackendUnavailableError, KNOWN_BACKENDS, NODE_BACKENDS, backendDescriptor, registeredBackends, registerBackendDescriptor } from '../../src/backends/index.js';
import { KERNEL_FIXES } from '../../src/backends/kernel-fixes/index.js';
import { defaultTolerance } from '../../src/parity/tolerance.js';
import { blankPage } from '../../src/browser/browser-page.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BACKENDS_INDEX = fileURLToPath(new URL('../../src/backends/index.js', import.meta.url));

describe('backend registry (src/backends/descriptors: one file per backend)', function () {
  it('registers the eight earlier backends in their order, and webgpu (Node, Dawn) last', function () {
    assert.deepEqual(
      registeredBackends().map((d) => d.name),
      ['cpu', 'wasm', 'tensorflow', 'chromium-cpu', 'chromium-wasm', 'chromium-webgl', 'chromium-webgl-f16', 'chromium-webgpu', 'webgpu'],
    );
    assert.deepEqual([...KNOWN_BACKENDS], registeredBackends().map((d) => d.name));
    assert.deepEqual([...NODE_BACKENDS], ['cpu', 'wasm', 'tensorflow', 'webgpu']);
    assert.deepEqual([...BROWSER_BACKENDS], ['chromium-cpu', 'chromium-wasm', 'chromium-webgl', 'chromium-webgl-f16', 'chromium-webgpu']);
  });

  it('every descriptor declares what the CLI, the error messages, tolerances and the page need', function () {
    const names = new Set<string>();
    for (const d of registeredBackends()) {
      assert.ok(!names.has(d.name), `${d.name} is unique`);
      names.add(d.name);
      assert.equal(backendDescriptor(d.name), d);
      assert.match(d.description, /^\S.{10,120}$/, `${d.name}: a one-line description`);
      assert.ok(d.tfjsBackend.length > 0, `${d.name}: tfjsBackend`);
      assert.ok(d.installHint.length > 10, `${d.name}: installHint`);
      assert.ok(d.kernelFixes === null || Object.hasOwn(KERNEL_FIXES, d.kernelFixes), `${d.name}: kernelFixes names a set`);
      if (d.toleranceFloor) assert.ok(d.toleranceFloor.atol >= 0 && d.toleranceFloor.rtol >= 0, `${d.name}: toleranceFloor`);
      if (d.kind === 'node') {
        assert.equal(typeof d.register, 'function', `${d.name}: register`);
      } else {
        assert.equal(d.kind, 'browser');
        assert.ok(d.name.startsWith('chromium-'), d.name);
        // Crosses into the page as JSON: plain data only.
        assert.deepEqual(JSON.parse(JSON.stringify([d.tfjsFlags, d.pageSetup, d.importMap, d.chromiumArgs])), [d.tfjsFlags, d.pageSetup, d.importMap, d.chromiumArgs]);
        for (const arg of d.chromiumArgs) assert.match(arg, /^--[a-z]/, `${d.name}: ${arg}`);
      }
    }
  });

  it("a descriptor's tolerance floor is what defaultTolerance applies, and only to that backend", function () {
    assert.deepEqual(defaultTolerance('float32', undefined, 'chromium-webgl-f16'), { atol: 1e-2, rtol: 1e-2 });
    assert.deepEqual(defaultTolerance('float32', undefined, 'chromium-webgl'), { atol: 5e-6, rtol: 1e-4 });
    assert.deepEqual(defaultTolerance('float32', undefined, 'cpu'), { atol: 5e-6, rtol: 1e-4 });
    const webgpu = backendDescriptor('chromium-webgpu')!.toleranceFloor;
    assert.deepEqual(defaultTolerance('float32', undefined, 'chromium-webgpu'), webgpu ? { atol: Math.max(5e-6, webgpu.atol), rtol: Math.max(1e-4, webgpu.rtol) } : { atol: 5e-6, rtol: 1e-4 });
  });

  it("the page's import map carries each browser backend's modules (the wasm and webgpu ES bundles)", function () {
    const page = blankPage();
    assert.match(page, /"@tensorflow\/tfjs-backend-wasm":"\/node_modules\/@tensorflow\/tfjs-backend-wasm\/dist\/tf-backend-wasm\.fesm\.js"/);
    assert.match(page, /"@tensorflow\/tfjs-backend-webgpu":"\/node_modules\/@tensorflow\/tfjs-backend-webgpu\/dist\/tf-backend-webgpu\.fesm\.js"/);
  });

  it("BackendUnavailableError ends with the backend's install hint, or lists the backends for an unknown name", function () {
    assert.match(new BackendUnavailableError('chromium-webgpu', 'x').message, /WebGPU needs a Chromium with WebGPU/);
    assert.match(new BackendUnavailableError('wasm', 'x').message, /npm run setup/);
    assert.match(new BackendUnavailableError('nope', 'x').message, /Choose one of cpu, wasm, tensorflow, .*chromium-webgpu, webgpu\./);
  });

  it('refuses a second descriptor with a registered name', function () {
    assert.throws(() => registerBackendDescriptor({ ...backendDescriptor('cpu')! }), /registered twice/);
  });

  it('a backend registered at run time is known to the CLI checks and to useBackend', function () {
    // A fresh process, so that this one's registry keeps the built-in backends only.
    const script = `
      const b = await import(${JSON.stringify(BACKENDS_INDEX)});
      b.registerBackendDescriptor({ ...b.backendDescriptor('cpu'), name: 'my-cpu', description: 'the cpu backend again, registered by a user' });
      await b.useBackend('my-cpu');
      console.log(JSON.stringify({ known: b.isBackendName('my-cpu'), last: b.registeredBackends().at(-1).name, probe: await b.probeBackend('my-cpu') }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim().split('\n').at(-1)!), { known: true, last: 'my-cpu', probe: { name: 'my-cpu', available: true } });
  });
});
