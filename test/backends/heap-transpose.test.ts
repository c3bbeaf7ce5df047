import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { asBlockTranspose, asMatrixTranspose, heapBlockTransposeCalls, heapTransposeCalls } from '../../src/backends/kernel-fixes/heap-transpose.js';
import { transpose4x4TileFunction, transposeMatrices } from '../../src/backends/wasm-simd/transpose-blocks.js';
import { startKernelThreads } from '../../src/backends/wasm-simd/kernel-threads.js';
import { elementwiseParts } from '../../src/backends/kernel-fixes/heap-elementwise.js';
import { wasmModule } from '../../src/backends/wasm-simd/wasm-binary.js';
import { assertWasmMatchesCpu, generator, type HeapDtype } from '../support/heap-cases.js';
import { onWasm } from '../support/backend-suite.js';

describe('asMatrixTranspose: which permutations are batches of matrix transposes', () => {
  it('swaps of two runs of axes under leading axes that stay', () => {
    assert.deepEqual(asMatrixTranspose([3, 5], [1, 0]), { batches: 1, rows: 3, cols: 5 });
    assert.deepEqual(asMatrixTranspose([2, 3, 5], [0, 2, 1]), { batches: 2, rows: 3, cols: 5 });
    assert.deepEqual(asMatrixTranspose([2, 3, 5], [2, 0, 1]), { batches: 1, rows: 6, cols: 5 });
    assert.deepEqual(asMatrixTranspose([2, 3, 5], [1, 2, 0]), { batches: 1, rows: 2, cols: 15 });
    assert.deepEqual(asMatrixTranspose([2, 3, 4, 5], [0, 3, 1, 2]), { batches: 2, rows: 12, cols: 5 });
    assert.deepEqual(asMatrixTranspose([2, 3, 4, 5], [0, 1, 3, 2]), { batches: 6, rows: 4, cols: 5 });
  });
  it('asBlockTranspose: the same under last axes that stay, as blocks', () => {
    assert.deepEqual(asBlockTranspose([32, 128, 4, 64], [0, 2, 1, 3]), { batches: 32, rows: 128, cols: 4, blockValues: 64 });
    assert.deepEqual(asBlockTranspose([2, 3, 4, 5], [1, 0, 2, 3]), { batches: 1, rows: 2, cols: 3, blockValues: 20 });
    assert.deepEqual(asBlockTranspose([2, 3, 4, 5], [1, 2, 0, 3]), { batches: 1, rows: 2, cols: 12, blockValues: 5 });
    // The last axis moves (asMatrixTranspose's case), nothing moves, or what moves is no matrix transpose.
    assert.equal(asBlockTranspose([2, 3, 4, 5], [0, 1, 3, 2]), undefined);
    assert.equal(asBlockTranspose([2, 3, 4, 5], [0, 1, 2, 3]), undefined);
    assert.deepEqual(asBlockTranspose([2, 3, 4, 5, 6], [1, 2, 0, 3, 4]), { batches: 1, rows: 2, cols: 12, blockValues: 30 });
    assert.equal(asBlockTranspose([2, 3, 4, 5, 6], [2, 1, 0, 3, 4]), undefined);
  });

  it('leaves out axes of length 1', () => {
    assert.deepEqual(asMatrixTranspose([1, 3, 1, 5], [3, 2, 1, 0]), { batches: 1, rows: 3, cols: 5 });
    assert.deepEqual(asMatrixTranspose([4, 1, 7], [0, 2, 1]), undefined);
  });
  it('refuses what is not one (a last axis that stays, three-way moves, no move)', () => {
    assert.equal(asMatrixTranspose([2, 3, 4, 5], [0, 2, 1, 3]), undefined);
    assert.equal(asMatrixTranspose([2, 3, 4], [1, 0, 2]), undefined);
    assert.equal(asMatrixTranspose([2, 3, 4, 5], [3, 2, 1, 0]), undefined);
    assert.equal(asMatrixTranspose([2, 3], [0, 1]), undefined);
  });
});

/** Every element its own value, so that a misplaced one shows. */
const numbered = (n: number) => Int32Array.from({ length: n }, (_, i) => i * 3 + 1);

function referenceTranspose(values: Int32Array, batches: number, rows: number, cols: number): Int32Array {
  const out = new Int32Array(values.length);
  for (let m = 0; m < batches; m++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[m * rows * cols + c * rows + r] = values[m * rows * cols + r * cols + c]!;
  return out;
}

describe('transposeMatrices: the 4x4-block SIMD kernel on a memory of its own', () => {
  for (const shared of [false, true]) {
    it(`${shared ? 'a shared memory (the threaded build\'s kind), on two threads' : 'a plain memory, on one'}: edges, tiles, runs of rows and batches`, () => {
      const memory = new WebAssembly.Memory(shared ? { initial: 64, maximum: 65536, shared: true } : { initial: 64 });
      const module = new WebAssembly.Module(wasmModule({ shared }, [transpose4x4TileFunction()]));
      const { exports } = new WebAssembly.Instance(module, { env: { memory } });
      const threads = startKernelThreads(module, memory, ['transpose4x4Tile'], [exports['transpose4x4Tile'] as (...args: number[]) => void], shared ? 2 : 1);
      assert.equal(threads.count, shared ? 2 : 1);
      const heap = new Int32Array(memory.buffer);
      // The last three are cut among the threads; [1, 1030, 70] has runs of rows under each column tile.
      for (const [batches, rows, cols] of [[1, 4, 4], [1, 1, 9], [1, 7, 5], [3, 8, 12], [2, 13, 70], [1, 131, 257], [1, 64, 300], [4, 128, 256], [1, 1030, 70], [3, 257, 131]] as const) {
        const n = batches * rows * cols;
        const values = numbered(n);
        const source = 16;
        const target = source + n + 3;
        heap.fill(-1, 0, target + n + 16);
        heap.set(values, source);
        transposeMatrices(threads, elementwiseParts(threads.count, n), 0, heap, source, target, batches, rows, cols);
        assert.deepEqual(heap.subarray(target, target + n), referenceTranspose(values, batches, rows, cols), `${batches}x${rows}x${cols}`);
        // Nothing written outside the output, nothing read into it from outside the input.
        assert.ok(heap.subarray(target + n, target + n + 16).every((v) => v === -1), `past the output, ${batches}x${rows}x${cols}`);
        assert.deepEqual(heap.subarray(source, source + n), values, `input untouched, ${batches}x${rows}x${cols}`);
      }
    });
  }
});

interface TransposeCase {
  shape: number[];
  perm: number[];
  dtype: HeapDtype;
}

/** Random permutations of ranks 1 to 5, axes of length 1 to 9 (now and then 1 or 0). */
function cases(count: number): TransposeCase[] {
  const pick = generator(4117);
  return Array.from({ length: count }, (_, k) => {
    const rank = 1 + (k % 5);
    const shape = Array.from({ length: rank }, () => (pick(25) === 0 ? 0 : pick(4) === 0 ? 1 : 2 + pick(8)));
    const perm = Array.from({ length: rank }, (_, i) => i);
    for (let i = rank - 1; i > 0; i--) {
      const j = pick(i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    return { shape, perm, dtype: (['float32', 'int32', 'bool'] as const)[k % 3]! };
  });
}

// wasm's Transpose (KERNEL_FIXES.wasm, heap-transpose.ts): batches of matrices in wasm SIMD.
describe('wasm: Transpose as 4x4 SIMD blocks in the heap (src/backends/kernel-fixes/heap-transpose.ts)', function () {
  onWasm({ activate: false });

  it('300 random permutations of ranks 1 to 5, float32, int32 and bool, equal cpu\'s, element for element', async () => {
    const all = cases(300);
    const matrices = all.filter((c) => c.dtype !== 'bool' && !c.shape.includes(0) && asMatrixTranspose(c.shape, c.perm));
    const blocks = all.filter((c) => c.dtype !== 'bool' && !c.shape.includes(0) && !asMatrixTranspose(c.shape, c.perm) && (asBlockTranspose(c.shape, c.perm)?.blockValues ?? 1) % 4 === 0);
    const [before, blocksBefore] = [heapTransposeCalls.count, heapBlockTransposeCalls.count];
    await assertWasmMatchesCpu(all, (x, c) => tf.transpose(x, c.perm), (c) => c.perm.map((axis) => c.shape[axis]!), useBackend);
    assert.ok(matrices.length > 30 && blocks.length > 0, `${matrices.length} matrices, ${blocks.length} blocks`);
    assert.equal(heapBlockTransposeCalls.count - blocksBefore, blocks.length, 'every float32 and int32 move of whole-vector blocks took the block copy');
    assert.equal(heapTransposeCalls.count - before, matrices.length + blocks.length, 'every float32 and int32 batch of matrices took the SIMD kernel');
  });

  it('attention\'s head transposes ([B, T, H, D] by [0, 2, 1, 3] and back), cut among the kernel threads, give cpu\'s values and their gradient', async () => {
    const run = () => tf.tidy(() => {
      const x = tf.reshape(tf.range(0, 8 * 128 * 4 * 64), [8, 128, 4, 64]);
      const heads = tf.transpose(x, [0, 2, 1, 3]);
      const back = tf.transpose(heads, [0, 2, 1, 3]);
      // Three-way under a staying block: [2, 3, 4, 20] by [1, 2, 0, 3] is [2] by [12] matrices of 20-value blocks.
      const y = tf.reshape(tf.range(0, 2 * 3 * 4 * 20), [2, 3, 4, 20]);
      const weights = tf.reshape(tf.range(0, 8 * 4 * 128 * 64), [8, 4, 128, 64]).div(1e4);
      const gradient = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.transpose(t, [0, 2, 1, 3]), weights)))(x.div(1e3));
      return [heads, back, tf.transpose(y, [1, 2, 0, 3]), gradient].map((t) => Array.from(t.dataSync()));
    });
    await useBackend('cpu');
    const expected = run();
    await useBackend('wasm');
    const before = heapBlockTransposeCalls.count;
    assert.deepEqual(run(), expected);
    // The two moves, the y case, and under the gradient the move and its gradient's move back.
    assert.equal(heapBlockTransposeCalls.count - before, 5);
  });

  it('matrices larger than a tile, and a product\'s gradient through it, give cpu\'s values', async () => {
    const run = () => tf.tidy(() => {
      const x = tf.reshape(tf.range(0, 3 * 130 * 75), [3, 130, 75]);
      const a = tf.reshape(tf.range(0, 96 * 40), [96, 40]).div(1000);
      const b = tf.reshape(tf.range(0, 96 * 24), [96, 24]).div(500);
      const gradient = tf.grad((m: tf.Tensor) => tf.sum(tf.matMul(m, b, true, false)))(a);
      return [tf.transpose(x, [0, 2, 1]), tf.transpose(x, [2, 0, 1]), tf.matMul(a, b, true, false), gradient].map((t) => Array.from(t.dataSync()));
    });
    await useBackend('cpu');
    const expected = run();
    await useBackend('wasm');
    const actual = run();
    assert.deepEqual(actual.slice(0, 2), expected.slice(0, 2));
    for (const k of [2, 3]) actual[k]!.forEach((v, i) => assert.ok(Math.abs(v - expected[k]![i]!) <= 1e-5 * Math.max(1, Math.abs(expected[k]![i]!)), `tensor ${k} element ${i}: ${v} against ${expected[k]![i]}`));
  });
});
