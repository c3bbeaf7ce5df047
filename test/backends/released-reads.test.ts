import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import tf from '#tfjs';
import { probeBackend, useBackend } from '../../src/backends/index.js';
import { readNativeBuildStatus } from '../../src/backends/native-build-status.js';
import { withReadValues, withReadValuesSync } from '../../src/backends/released-reads.js';
import { REPO_ROOT } from '../support/paths.js';

// Arrays read from tensors freed when the reader is done with them (src/backends/released-reads.ts,
// scripts/binding-release-arrays.mjs), never a tensor's own storage.

interface ReleaseScript {
  RELEASE_ARRAYS_MARKER: string;
  RELEASE_FUNCTION: string;
  FUNCTION_ANCHOR: string;
  EXPORT_ANCHOR: string;
  extendBindingSourceWithReleaseArrays(file: string): string;
}

const script = (): Promise<ReleaseScript> => import(pathToFileURL(path.join(REPO_ROOT, 'scripts', 'binding-release-arrays.mjs')).href) as Promise<ReleaseScript>;

/** 0.5, 1.5, ... : values no fresh buffer holds by chance. */
const ramp = (elements: number): tf.Tensor => tf.tidy(() => tf.add(tf.range(0, elements, 1, 'float32'), 0.5));

/** Runs `body` as an ES module in a fresh Node (after `flags`) at the repository's root; the JSON its last line prints. */
function childJson<T>(body: string, timeoutMs: number, flags: string[] = []): T {
  const child = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', body], { cwd: REPO_ROOT, encoding: 'utf8', timeout: timeoutMs });
  assert.equal(child.status, 0, child.stderr.slice(-2000));
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as T;
}

function assertRamp(values: ArrayLike<number>, elements: number, what: string): void {
  assert.equal(values.length, elements, `${what}: length`);
  for (const i of [0, 1, elements >> 1, elements - 1]) assert.equal(values[i], i + 0.5, `${what}[${i}]`);
}

describe("the binding's releaseArrayBuffers: the source extension", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keras-bridge-release-arrays-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds the function before the module init and its export after the last one, once', async function () {
    const { FUNCTION_ANCHOR, EXPORT_ANCHOR, RELEASE_ARRAYS_MARKER, extendBindingSourceWithReleaseArrays } = await script();
    const file = path.join(dir, 'tfjs_binding.cc');
    const source = `static napi_value Other() {}\n${FUNCTION_ANCHOR}\n  napi_property_descriptor exports_properties[] = {\n${EXPORT_ANCHOR}\n  };\n}\n`;
    writeFileSync(file, source);
    assert.equal(extendBindingSourceWithReleaseArrays(file), 'extended');
    const extended = readFileSync(file, 'utf8');
    const at = (text: string): number => extended.indexOf(text);
    assert.ok(at('static napi_value Other') < at(RELEASE_ARRAYS_MARKER) && at(RELEASE_ARRAYS_MARKER) < at(FUNCTION_ANCHOR));
    assert.ok(at('{"getNumOfTensors"') < at('{"releaseArrayBuffers", nullptr, ReleaseArrayBuffers') && at('ReleaseArrayBuffers, nullptr') < at('  };'));
    assert.match(extended, /napi_detach_arraybuffer\(env, element\)/);
    assert.match(extended, /napi_is_detached_arraybuffer\(/, 'a buffer detached before is not counted again');
    assert.equal(extendBindingSourceWithReleaseArrays(file), 'already');
    assert.equal(readFileSync(file, 'utf8'), extended);
  });

  it('leaves a source without either anchor as it was and says which', async function () {
    const { FUNCTION_ANCHOR, extendBindingSourceWithReleaseArrays } = await script();
    const file = path.join(dir, 'tfjs_binding.cc');
    writeFileSync(file, `${FUNCTION_ANCHOR}\n}\n`);
    assert.match(extendBindingSourceWithReleaseArrays(file), /anchor not found once .*getNumOfTensors export/);
    assert.equal(readFileSync(file, 'utf8'), `${FUNCTION_ANCHOR}\n}\n`);
  });

  it("finds both anchors once in the installed tfjs-node's binding source", async function () {
    const { FUNCTION_ANCHOR, EXPORT_ANCHOR, RELEASE_ARRAYS_MARKER } = await script();
    const file = path.join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-node', 'binding', 'tfjs_binding.cc');
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      this.skip();
    }
    // The anchors stay whole after the extension (it inserts beside them).
    for (const anchor of [FUNCTION_ANCHOR, EXPORT_ANCHOR]) assert.equal(source.split(anchor).length - 1, 1, `${file}: ${anchor.trim()}`);
    assert.ok(source.split(RELEASE_ARRAYS_MARKER).length <= 2);
  });
});

describe('withReadValues on the tensorflow backend', function () {
  let zeroCopyBytes: number;
  before(async function () {
    if (!(await probeBackend('tensorflow')).available) this.skip();
    if (readNativeBuildStatus()?.releaseArrays !== true) this.skip();
    zeroCopyBytes = ((await import(pathToFileURL(path.join(REPO_ROOT, 'scripts', 'binding-zero-copy-reads.mjs')).href)) as { ZERO_COPY_MIN_BYTES: number }).ZERO_COPY_MIN_BYTES;
    await useBackend('tensorflow');
  });

  it('frees large (zero-copy) and small (copied) reads after use, and the tensors keep their values', async function () {
    const [large, small] = [zeroCopyBytes, 64].map((elements) => ramp(elements));
    let seen: ArrayLike<number>[] = [];
    const sum = await withReadValues([large!, small!], (values) => {
      seen = values as Float32Array[];
      assertRamp(seen[0]!, zeroCopyBytes, 'large, in use');
      assertRamp(seen[1]!, 64, 'small, in use');
      return (seen[1]![0] ?? 0) + (seen[1]![63] ?? 0);
    });
    assert.equal(sum, 64);
    for (const values of seen) assert.equal(values.length, 0, 'an array kept past use reads as empty');
    assertRamp(large!.dataSync(), zeroCopyBytes, 'large, read again');
    assertRamp(small!.dataSync(), 64, 'small, read again');
    tf.dispose([large!, small!]);
  });

  it("never frees the values of a tensor made from JavaScript's array (the backend returns that very array)", function () {
    const own = new Float32Array(zeroCopyBytes).map((_, i) => i + 0.5);
    const x = tf.tensor1d(own);
    let seen: ArrayLike<number> | undefined;
    withReadValuesSync([x], ([values]) => {
      seen = values as Float32Array;
    });
    assertRamp(seen!, zeroCopyBytes, 'the array read');
    assertRamp(own, zeroCopyBytes, "the caller's array");
    assertRamp(x.dataSync(), zeroCopyBytes, 'the tensor');
    x.dispose();
  });

  it('frees the arrays when use throws, and passes the error on', async function () {
    const x = ramp(zeroCopyBytes);
    let seen: ArrayLike<number> | undefined;
    await assert.rejects(
      withReadValues([x], ([values]) => {
        seen = values as Float32Array;
        throw new Error('from use');
      }),
      /from use/,
    );
    assert.equal(seen!.length, 0);
    assertRamp(x.dataSync(), zeroCopyBytes, 'the tensor');
    x.dispose();
  });

  it("the binding's function detaches what it may, skips the rest, and counts", function () {
    const binding = (tf.backend() as unknown as { binding: { releaseArrayBuffers(buffers: unknown): number } }).binding;
    const plain = new ArrayBuffer(16);
    const memory = new WebAssembly.Memory({ initial: 1 });
    assert.equal(binding.releaseArrayBuffers([plain, memory.buffer, 'text', new Float32Array(4)]), 1);
    assert.equal(plain.byteLength, 0);
    assert.equal(memory.buffer.byteLength, 65536, "a wasm memory's buffer is not V8's to detach");
    assert.equal(binding.releaseArrayBuffers([plain]), 0, 'already detached');
    assert.throws(() => binding.releaseArrayBuffers(plain), /takes an array of ArrayBuffers/);
  });

  it("keeps V8's full collections away from a loop that reads 8 MB a pass (a child process, both ways)", function () {
    // Without release each pass's buffer waits for a collection, and V8 runs full ones by their
    // bytes: measured here 13-18 in 200 passes read plainly, 0 with withReadValues.
    const body = `
      import * as tf from '@tensorflow/tfjs';
      import { PerformanceObserver, constants } from 'node:perf_hooks';
      const { useBackend } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'backends', 'index.js'))});
      const { withReadValues } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'runtime.js'))});
      await useBackend('tensorflow');
      let majors = 0;
      new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++; }).observe({ entryTypes: ['gc'] });
      const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
      const counted = async (read) => {
        await settle();
        const before = majors;
        for (let i = 0; i < 200; i++) { const t = tf.fill([2 * 1024 * 1024], i); await read(t); t.dispose(); }
        await settle();
        return majors - before;
      };
      const plain = await counted(async (t) => { await t.data(); });
      const released = await counted((t) => withReadValues([t], () => undefined));
      console.log(JSON.stringify({ plain, released, tensors: tf.memory().numTensors }));`;
    const { plain, released, tensors } = childJson<{ plain: number; released: number; tensors: number }>(body, 300_000);
    console.log(`      full collections in 200 passes: ${plain} reading plainly, ${released} with withReadValues`);
    assert.equal(tensors, 0);
    assert.ok(plain >= 8, `plain reads ran ${plain} full collections: the premise no longer holds`);
    assert.ok(released * 4 <= plain, `${released} full collections with withReadValues against ${plain} without`);
  });
});

describe('withReadValues on backends whose reads are the tensor (cpu) or copies (wasm)', function () {
  let previous: string;
  before(function () {
    previous = tf.getBackend();
  });
  after(async function () {
    await useBackend(previous as Parameters<typeof useBackend>[0]);
  });

  it('cpu: frees nothing, since a read there is the tensor\'s own storage', async function () {
    await useBackend('cpu');
    const x = ramp(1 << 16);
    let seen: ArrayLike<number> | undefined;
    await withReadValues([x], ([values]) => {
      seen = values as Float32Array;
    });
    assertRamp(seen!, 1 << 16, 'the array read');
    assertRamp(x.dataSync(), 1 << 16, 'the tensor');
    x.dispose();
  });

  it('wasm without the tensorflow binding: frees the copies through ArrayBuffer.prototype.transfer where the engine has it, else leaves them', async function () {
    if (!(await probeBackend('wasm')).available) this.skip();
    // Node 20 has transfer behind a V8 flag (standard from V8 11.4, Node 21): a child each way.
    const body = `
      import * as tf from '@tensorflow/tfjs';
      const { useBackend } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'backends', 'index.js'))});
      const { withReadValues } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'runtime.js'))});
      await useBackend('wasm');
      const x = tf.tidy(() => tf.add(tf.range(0, 4096, 1, 'float32'), 0.5));
      let seen;
      await withReadValues([x], ([values]) => { seen = values; });
      const again = x.dataSync();
      console.log(JSON.stringify({ transfer: typeof ArrayBuffer.prototype.transfer === 'function', tensorflowUp: 'tensorflow' in tf.engine().registry, seenLength: seen.length, last: again[4095] }));`;
    const outcome = (flags: string[]) => childJson<{ transfer: boolean; tensorflowUp: boolean; seenLength: number; last: number }>(body, 120_000, flags);
    const withTransfer = outcome(Number(process.versions.node.split('.')[0]) < 21 ? ['--harmony-rab-gsab-transfer'] : []);
    assert.deepEqual(withTransfer, { transfer: true, tensorflowUp: false, seenLength: 0, last: 4095.5 });
    if (Number(process.versions.node.split('.')[0]) < 21) assert.deepEqual(outcome([]), { transfer: false, tensorflowUp: false, seenLength: 4096, last: 4095.5 });
  });

  it('wasm: the tensor keeps its values whether or not this Node can free the copy', async function () {
    if (!(await probeBackend('wasm')).available) this.skip();
    await useBackend('wasm');
    const x = ramp(1 << 16);
    let seen: ArrayLike<number> | undefined;
    await withReadValues([x], ([values]) => {
      seen = values as Float32Array;
      assertRamp(seen, 1 << 16, 'in use');
    });
    // Freed where a way exists (ArrayBuffer.prototype.transfer, or the tensorflow binding when that backend is up here).
    assert.ok(seen!.length === 0 || seen!.length === 1 << 16);
    assertRamp(x.dataSync(), 1 << 16, 'the tensor');
    x.dispose();
  });
});
