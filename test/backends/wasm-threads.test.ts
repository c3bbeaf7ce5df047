import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError } from '../../src/backends/index.js';
import { MAX_WASM_THREADS, requestedWasmThreads } from '../../src/backends/wasm-threads/thread-count.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BACKENDS_INDEX = fileURLToPath(new URL('../../src/backends/index.js', import.meta.url));

interface ChildRun {
  details: string;
  listenersAdded: number;
  /** Hex of float32 bytes: a convolution, a matMul and their gradients. */
  bytes: string;
}

/**
 * A fresh process (the wasm module starts once per process) that selects wasm with
 * KERAS_BRIDGE_WASM_THREADS=threads, computes what XNNPACK splits between threads, and must then
 * exit by itself: a pool thread that kept it alive would show as a timeout here.
 */
function runWasm(threads: string, poolSpin?: string): ChildRun {
  const script = `
    import * as tf from '@tensorflow/tfjs';
    const { backendDetails, useBackend } = await import(${JSON.stringify(BACKENDS_INDEX)});
    const events = ['uncaughtException', 'unhandledRejection'];
    const before = events.map((e) => process.listeners(e).length);
    await useBackend('wasm');
    const after = events.map((e) => process.listeners(e).length);
    const values = (shape, phase) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.731 + phase)), shape);
    const x = values([2, 17, 19, 24], 0), w = values([3, 3, 24, 40], 1), a = values([130, 70], 2), b = values([70, 90], 3);
    const f = (x, w, a, b) => tf.add(tf.sum(tf.square(tf.conv2d(x, w, 1, 'same'))), tf.sum(tf.sin(tf.matMul(a, b))));
    const grads = tf.grads(f)([x, w, a, b]);
    const all = [tf.conv2d(x, w, 2, 'valid'), tf.matMul(a, b), ...grads];
    const hex = all.map((t) => Buffer.from(t.dataSync().buffer).toString('hex')).join('');
    console.log(JSON.stringify({ details: await backendDetails('wasm'), listenersAdded: after[0] + after[1] - before[0] - before[1], bytes: hex }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, KERAS_BRIDGE_WASM_THREADS: threads, KERAS_BRIDGE_WASM_POOL_SPIN: poolSpin },
  });
  assert.equal(child.signal, null, `the process did not exit by itself (${child.signal}): ${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildRun;
}

describe('wasm threads (src/backends/wasm-threads)', function () {
  it('takes one thread per core by default, at most the pool tfjs builds, or KERAS_BRIDGE_WASM_THREADS', function () {
    const cores = Math.min(os.availableParallelism(), MAX_WASM_THREADS);
    assert.equal(requestedWasmThreads({}), cores);
    assert.equal(requestedWasmThreads({ KERAS_BRIDGE_WASM_THREADS: 'auto' }), cores);
    assert.equal(requestedWasmThreads({ KERAS_BRIDGE_WASM_THREADS: ' 3 ' }), 3);
    assert.equal(requestedWasmThreads({ KERAS_BRIDGE_WASM_THREADS: '1' }), 1);
  });

  it('refuses a thread count it cannot honour, naming the variable', function () {
    for (const bad of ['0', '9', 'two', '1.5', '-2']) {
      assert.throws(
        () => requestedWasmThreads({ KERAS_BRIDGE_WASM_THREADS: bad }),
        (e: unknown) => e instanceof BackendUnavailableError && /KERAS_BRIDGE_WASM_THREADS="[^"]*": expected 'auto' or a whole number of threads from 1 to 8/.test(e.message),
        bad,
      );
    }
  });

  it('runs two threads in Node, with the same bits as one, and leaves the process as it found it', function () {
    this.timeout(300_000);
    const one = runWasm('1');
    const two = runWasm('2');
    const twoAsBuilt = runWasm('2', '1000000');
    assert.equal(one.details, '1 XNNPACK thread');
    assert.equal(two.details, '2 XNNPACK threads (idle workers spin 10000 times, not 1000000)');
    assert.equal(twoAsBuilt.details, '2 XNNPACK threads');
    // XNNPACK splits outputs between threads, never a sum: every float is the same, however long
    // its workers spin.
    assert.equal(two.bytes.length, one.bytes.length);
    assert.ok(two.bytes === one.bytes, 'two threads computed other bits than one');
    assert.ok(twoAsBuilt.bytes === one.bytes, 'two threads spinning as built computed other bits than one');
    // Emscripten's Node start-up adds process handlers that rethrow errors; the threaded start removes them.
    assert.equal(two.listenersAdded, 0);
  });
});
