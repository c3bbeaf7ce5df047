import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BACKENDS_INDEX = fileURLToPath(new URL('../../src/backends/index.js', import.meta.url));

/** probeBackend('webgpu') in a fresh process (registration is once per process), with Dawn's module replaced. */
function probeWith(dawnModule: string): { available: boolean; reason?: string } {
  const script = `
    const { probeBackend } = await import(${JSON.stringify(BACKENDS_INDEX)});
    console.log(JSON.stringify(await probeBackend('webgpu')));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, KERAS_BRIDGE_WEBGPU_MODULE: dawnModule },
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { available: boolean; reason?: string };
}

describe('webgpu in Node through Dawn (src/backends/webgpu-dawn.ts)', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keras-bridge-dawn-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is unavailable, naming the optional package, where Dawn is not installed', function () {
    const probe = probeWith(path.join(dir, 'not-installed', 'index.js'));
    assert.equal(probe.available, false);
    assert.match(probe.reason!, /the optional package '.*not-installed.*' \(Dawn's Node binding\) is not installed/);
  });

  it('is unavailable, naming the Vulkan driver, where Dawn finds no adapter', function () {
    const fake = path.join(dir, 'no-adapter.mjs');
    writeFileSync(fake, 'export const globals = {};\nexport function create() { return { requestAdapter: async () => null }; }\n');
    const probe = probeWith(fake);
    assert.equal(probe.available, false);
    assert.match(probe.reason!, /Dawn found no WebGPU adapter: it needs a Vulkan loader \(libvulkan1\) and a Vulkan driver/);
  });

  it('says what is wrong with a module that is not Dawn', function () {
    const fake = path.join(dir, 'not-dawn.mjs');
    writeFileSync(fake, 'export const something = 1;\n');
    const probe = probeWith(fake);
    assert.equal(probe.available, false);
    assert.match(probe.reason!, /loading '.*not-dawn\.mjs' failed: '.*not-dawn\.mjs' does not export create\(\) and globals/);
  });
});
