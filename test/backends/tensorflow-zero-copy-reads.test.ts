import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import tf from '#tfjs';
import { probeBackend, useBackend } from '../../src/backends/index.js';
import { readNativeBuildStatus } from '../../src/backends/native-build-status.js';
import { whyTensorflowNotLoaded } from '../../src/backends/native-tensorflow.js';
import { REPO_ROOT } from '../support/paths.js';

// Large reads on the tensorflow backend hand over TensorFlow's own buffer instead of copying it
// (scripts/binding-zero-copy-reads.mjs, docs/native-backend.md "Reads without a copy").

interface ZeroCopyScript {
  ZERO_COPY_MARKER: string;
  ZERO_COPY_ANCHOR: string;
  ZERO_COPY_MIN_BYTES: number;
  extendBindingSourceWithZeroCopyReads(file: string): string;
}

const script = (): Promise<ZeroCopyScript> => import(pathToFileURL(path.join(REPO_ROOT, 'scripts', 'binding-zero-copy-reads.mjs')).href) as Promise<ZeroCopyScript>;

describe("the binding's zero-copy reads: the source extension", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keras-bridge-zero-copy-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('inserts the external-buffer path once, after the byte length and before the copy, and only once', async function () {
    const { ZERO_COPY_ANCHOR, ZERO_COPY_MARKER, extendBindingSourceWithZeroCopyReads } = await script();
    const file = path.join(dir, 'tfjs_backend.cc');
    const source = `#include <string>\nvoid Copy(...) {\n${ZERO_COPY_ANCHOR}\n  napi_status nstatus;\n  memcpy(array_buffer_data, TF_TensorData(tensor.tensor), byte_length);\n}\n`;
    writeFileSync(file, source);
    assert.equal(extendBindingSourceWithZeroCopyReads(file), 'extended');
    const extended = readFileSync(file, 'utf8');
    const at = (text: string): number => extended.indexOf(text);
    assert.ok(at('TF_TensorByteSize') < at(ZERO_COPY_MARKER) && at(ZERO_COPY_MARKER) < at('napi_value array_buffer_value;') && at('napi_value array_buffer_value;') < at('memcpy(array_buffer_data'));
    assert.match(extended, /#include <string>\n#include <cstdlib>\n#include <v8\.h>\n/);
    assert.match(extended, /std::getenv\("KERAS_BRIDGE_COPY_READS"\)/);
    // V8's backing store, whose deleter runs when V8 sweeps: napi's external buffers wait for the event loop.
    assert.match(extended, /v8::ArrayBuffer::NewBackingStore\(/);
    assert.doesNotMatch(extended, /napi_create_external_arraybuffer\(/);
    assert.match(extended, /TF_DeleteTensor\(static_cast<TF_Tensor \*>\(deleter_data\)\)/);
    assert.match(extended, /tensor\.tensor = nullptr;/, 'ownership moves to the deleter, or the TF_AutoTensor would free the buffer under the array');
    assert.match(extended, /#if !defined\(V8_ENABLE_SANDBOX\)/, 'a sandboxed V8 refuses memory from outside it');
    assert.equal(extendBindingSourceWithZeroCopyReads(file), 'already');
    assert.equal(readFileSync(file, 'utf8'), extended);
  });

  it('leaves a source without the anchor as it was and says why', async function () {
    const { extendBindingSourceWithZeroCopyReads } = await script();
    const file = path.join(dir, 'tfjs_backend.cc');
    writeFileSync(file, 'void Other() {}\n');
    assert.match(extendBindingSourceWithZeroCopyReads(file), /anchor not found once/);
    assert.equal(readFileSync(file, 'utf8'), 'void Other() {}\n');
  });

  it("finds its anchor once in the installed tfjs-node's binding source", async function () {
    const { ZERO_COPY_ANCHOR, ZERO_COPY_MARKER } = await script();
    const file = path.join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-node', 'binding', 'tfjs_backend.cc');
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      this.skip();
    }
    // Extended already (setup does it in place, splitting the anchor) or not yet: one or the other, once.
    const [anchors, markers] = [source.split(ZERO_COPY_ANCHOR).length - 1, source.split(ZERO_COPY_MARKER).length - 1];
    assert.equal(anchors + markers, 1, `${file}: ${anchors} anchors, ${markers} markers`);
  });
});

describe("the binding's zero-copy reads: a binding built by another Node", function () {
  it("says so, and how to rebuild it, when the binding fails to load (V8's C++ API ties it to Node's ABI)", function () {
    const failure = new Error('tfjs_binding.node: undefined symbol: _ZN2v811ArrayBuffer3NewEPNS_7IsolateESt10shared_ptrINS_12BackingStoreEE');
    const why = whyTensorflowNotLoaded(failure, { ok: true, nodeAbi: '1', zeroCopyReads: true });
    assert.match(why, new RegExp(`built by another Node \\(ABI 1; this one is ${process.versions.modules}, ${process.version.replace(/\./g, '\\.')}\\)`));
    assert.match(why, /npm run setup/);
    assert.match(whyTensorflowNotLoaded(failure, { ok: true, nodeAbi: process.versions.modules }), /^loading @tensorflow\/tfjs-node failed: tfjs_binding\.node: undefined symbol/);
  });
});

describe("the binding's zero-copy reads: on the tensorflow backend", function () {
  let minBytes: number;
  before(async function () {
    if (!(await probeBackend('tensorflow')).available) this.skip();
    if (readNativeBuildStatus()?.zeroCopyReads !== true) this.skip();
    minBytes = (await script()).ZERO_COPY_MIN_BYTES;
    await useBackend('tensorflow');
  });

  it("reads a large tensor as a view of TensorFlow's buffer: two reads share their storage", function () {
    const x = tf.range(0, minBytes / 4, 1, 'float32');
    const [a, b] = [x.dataSync() as Float32Array, x.dataSync() as Float32Array];
    assert.notEqual(a, b);
    a[5] = -1;
    assert.equal(b[5], -1, 'a copy would not see the write');
    x.dispose();
  });

  it('copies every read when KERAS_BRIDGE_COPY_READS is set (not empty, not 0), for code that writes into what it read', function () {
    const shares = (setting: string | undefined): boolean => {
      const body = `
        import * as tf from '@tensorflow/tfjs';
        const { useBackend } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'backends', 'index.js'))});
        await useBackend('tensorflow');
        const x = tf.range(0, ${minBytes}, 1, 'float32');
        const [a, b] = [x.dataSync(), x.dataSync()];
        a[5] = -1;
        console.log(JSON.stringify({ shares: b[5] === -1 }));`;
      const env: NodeJS.ProcessEnv = { ...process.env, KERAS_BRIDGE_COPY_READS: setting };
      if (setting === undefined) delete env['KERAS_BRIDGE_COPY_READS'];
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', body], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000, env });
      assert.equal(child.status, 0, child.stderr.slice(-2000));
      return (JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { shares: boolean }).shares;
    };
    assert.equal(shares('1'), false);
    assert.equal(shares('0'), true);
    assert.equal(shares(''), true);
    assert.equal(shares(undefined), true);
  });

  it('copies a read below the threshold', function () {
    const x = tf.range(0, minBytes / 4 - 1, 1, 'float32');
    const [a, b] = [x.dataSync() as Float32Array, x.dataSync() as Float32Array];
    a[5] = -1;
    assert.equal(b[5], 5);
    x.dispose();
  });

  it('keeps the values after the tensor is disposed and its memory could be reused', async function () {
    const elements = (4 * minBytes) / 4;
    const x = tf.add(tf.range(0, elements, 1, 'float32'), 0.5);
    const [kept, asyncKept, ints] = [x.dataSync() as Float32Array, (await x.data()) as Float32Array, tf.tidy(() => x.toInt()).dataSync() as Int32Array];
    tf.dispose(x);
    for (let i = 0; i < 20; i++) tf.tidy(() => tf.fill([elements], 7).dataSync());
    for (const values of [kept, asyncKept]) {
      assert.equal(values.length, elements);
      assert.equal(values[0], 0.5);
      assert.equal(values[elements - 1], elements - 0.5);
    }
    assert.equal(ints[elements - 1], elements - 1);
  });

  it('releases TensorFlow\'s buffer when the array is collected: 400 reads of 8 MB, dropped, leave RSS near where it was', function () {
    // A child with --expose-gc: a leak of every buffer would be 3.2 GB. Measured: 43 MB here; with
    // napi's external buffers, whose finalizers wait for the event loop, 3.3 GB.
    const body = `
      import * as tf from '@tensorflow/tfjs';
      const { useBackend } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'backends', 'index.js'))});
      await useBackend('tensorflow');
      const read = () => { const t = tf.fill([2 * 1024 * 1024], 3); const values = t.dataSync(); t.dispose(); return values; };
      const settle = () => { for (let i = 0; i < 3; i++) global.gc(); };
      for (let i = 0; i < 20; i++) read();
      settle();
      const before = process.memoryUsage().rss;
      let sum = 0;
      for (let i = 0; i < 400; i++) { const values = read(); sum += values[values.length - 1]; }
      settle();
      await new Promise((resolve) => setTimeout(resolve, 100));
      settle();
      console.log(JSON.stringify({ grownMb: (process.memoryUsage().rss - before) / 2 ** 20, sum, tensors: tf.memory().numTensors }));`;
    const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', body], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
    assert.equal(child.status, 0, child.stderr.slice(-2000));
    const { grownMb, sum, tensors } = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { grownMb: number; sum: number; tensors: number };
    assert.equal(sum, 1200);
    assert.equal(tensors, 0);
    console.log(`      RSS grew by ${grownMb.toFixed(0)} MB`);
    assert.ok(grownMb < 256, `RSS grew by ${grownMb.toFixed(0)} MB over 400 reads of 8 MB`);
  });
});
