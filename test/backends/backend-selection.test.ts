import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import tf from '#tfjs';
import { BackendError } from '../../src/errors.js';
import { activeBackendName, BackendUnavailableError, KNOWN_BACKENDS, isBackendName, probeBackend, useBackend, type NodeBackendName } from '../../src/backends/index.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BACKENDS_INDEX = fileURLToPath(new URL('../../src/backends/index.js', import.meta.url));

describe('backend selection', function () {
  let previous: string | undefined;

  before(function () {
    previous = activeBackendName();
  });

  after(async function () {
    await tf.setBackend(previous ?? 'cpu');
  });

  it('knows cpu, wasm and tensorflow in Node, and cpu, wasm, webgl and webgpu in Chromium', function () {
    assert.deepEqual([...KNOWN_BACKENDS], ['cpu', 'wasm', 'tensorflow', 'chromium-cpu', 'chromium-wasm', 'chromium-webgl', 'chromium-webgl-f16', 'chromium-webgpu', 'webgpu']);
    assert.ok(isBackendName('wasm'));
    assert.ok(isBackendName('chromium-webgl'));
    assert.ok(!isBackendName('webgl'));
  });

  it('rejects an unknown backend with BackendUnavailableError', async function () {
    await assert.rejects(useBackend('no-such-backend' as NodeBackendName), (error: unknown) => {
      assert.ok(error instanceof BackendUnavailableError);
      assert.ok(error instanceof BackendError, 'the CLI maps BackendError to exit code 2');
      assert.equal(error.backend, 'no-such-backend');
      assert.match(error.reason, /not a backend keras-bridge knows/);
      assert.match(error.message, /cpu, wasm, tensorflow/);
      return true;
    });
  });

  it('probes an unknown backend as unavailable, with the reason, and leaves the active backend alone', async function () {
    await useBackend('cpu');
    const probe = await probeBackend('no-such-backend');
    assert.deepEqual(probe, { name: 'no-such-backend', available: false, reason: 'it is not a backend keras-bridge knows' });
    assert.equal(tf.getBackend(), 'cpu');
  });

  it('probes as the first tfjs call of a fresh process', function () {
    const script = `
      const { probeBackend } = await import(${JSON.stringify(BACKENDS_INDEX)});
      const probes = [await probeBackend('wasm'), await probeBackend('no-such-backend')];
      console.log(JSON.stringify({ probes }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const { probes } = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(probes.map((p: { available: boolean }) => p.available), [true, false]);
  });

  it('probes cpu and wasm as available without switching to them', async function () {
    await useBackend('cpu');
    const wasm = await probeBackend('wasm');
    assert.deepEqual({ ...wasm, details: undefined }, { name: 'wasm', available: true, details: undefined });
    // The probe says what wasm runs on: its XNNPACK threads (docs/backends.md, "wasm threads").
    assert.match(wasm.details!, /^\d XNNPACK threads?( \(idle workers spin \d+ times, not 1000000\))?$/);
    assert.equal(tf.getBackend(), 'cpu');
    assert.deepEqual(await probeBackend('cpu'), { name: 'cpu', available: true });
  });

  it('tells how to build the native backend when it is unavailable', function () {
    const error = new BackendUnavailableError('tensorflow', 'its native binding tfjs_binding.node has not been built');
    assert.match(error.message, /npm run setup/);
    assert.match(error.message, /node scripts\/build-native-backend\.mjs/);
    assert.equal(error.reason, 'its native binding tfjs_binding.node has not been built');
  });

  it('does not load @tensorflow/tfjs-node when src/backends is imported', function () {
    // A fresh process: this one may have loaded tfjs-node already for other tests.
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(BACKENDS_INDEX)});
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('tfjs-node'));
      console.log(JSON.stringify(loaded));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), []);
  });
});
