import assert from 'node:assert/strict';
import tf from '#tfjs';
import { narrowerTransposedCalls, simdProductCalls } from '../../src/backends/kernel-fixes/batch-mat-mul-composed.js';
import { derivedTensorCount } from '../../src/backends/kernel-fixes/derived-tensors.js';
import { denseProductCalls } from '../../src/backends/kernel-fixes/fused-mat-mul-tiles.js';
import { weightProductFrom } from '../../src/backends/kernel-fixes/weight-product.js';
import { startKernelThreads } from '../../src/backends/wasm-simd/kernel-threads.js';
import { batchedProduct, batchStride, cutByColumns, DEPTH_BLOCK, packedBytes, PARALLEL_FROM_MACS, productCalls, ROW_BLOCK_BYTES, rowBlocks, productTileFunctions, productTilesOf, type BatchedProduct } from '../../src/backends/wasm-simd/product-tiles.js';
import { productMultiplyAdd, type MultiplyAdd } from '../../src/backends/wasm-simd/relaxed-simd.js';
import { wasmModule } from '../../src/backends/wasm-simd/wasm-binary.js';
import { wasmHeapKernels } from '../../src/backends/wasm-simd/wasm-heap-kernels.js';
import { float32MultiplyAdd } from '../support/float32-multiply-add.js';
import { generator } from '../support/heap-cases.js';
import { threadsInTurn } from '../support/threads-in-turn.js';
import { onWasm } from '../support/backend-suite.js';

interface ProductCase {
  batch: number[];
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** Random batched products: edges included (n from 4 to 37, so every column remainder; odd m; k = 1). */
function cases(count: number): ProductCase[] {
  const pick = generator(31337);
  return Array.from({ length: count }, (_, i) => ({
    batch: i % 5 === 0 ? [2, 1 + pick(3)] : [2 + pick(4)],
    m: 1 + pick(9),
    k: i % 7 === 0 ? 1 : 1 + pick(40),
    n: 4 + pick(34),
    transposeA: i % 4 === 1 || i % 4 === 3,
    transposeB: i % 4 >= 2,
  }));
}

/** Values that vary in sign and magnitude, different in every position. */
function values(shape: number[], seed: number): Float32Array {
  const pick = generator(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return Float32Array.from({ length: n }, () => (pick(2001) - 1000) / 137);
}

/** The products summed as the tiles sum them: in float32, in depth order from 0, each multiply-add rounded as `multiplyAdd` says (once, or after the multiply and after the add). */
function sequentialFloat32(a: Float32Array, b: Float32Array, batches: number, m: number, k: number, n: number, multiplyAdd: MultiplyAdd): Float32Array {
  const out = new Float32Array(batches * m * n);
  for (let p = 0; p < batches; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let t = 0; t < k; t++) sum = float32MultiplyAdd(a[(p * m + i) * k + t]!, b[(p * k + t) * n + j]!, sum, multiplyAdd);
        out[(p * m + i) * n + j] = sum;
      }
  return out;
}

/**
 * Products summed in another order (tfjs's kernels): each element within the float32 bound of a
 * k-term dot product of its exact value, 2·k·2⁻²⁴·Σ|a·b|.
 */
function assertWithinDotProductBound(got: ArrayLike<number>, a: Float32Array, b: Float32Array, batches: number, m: number, k: number, n: number, what: string): void {
  for (let p = 0; p < batches; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let [exact, magnitude] = [0, 0];
        for (let t = 0; t < k; t++) {
          const term = a[(p * m + i) * k + t]! * b[(p * k + t) * n + j]!;
          exact += term;
          magnitude += Math.abs(term);
        }
        const v = got[(p * m + i) * n + j]!;
        assert.ok(Math.abs(v - exact) <= 2 * k * 2 ** -24 * magnitude, `${what} at ${p},${i},${j}: ${v} against ${exact}`);
      }
}

/** tfjs's fused activations, each as the backend's own op (leakyrelu's alpha 0.3, prelu's weights `alpha`): what a fused product's result must equal after its bias. */
const FUSED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;

function fusedActivation(activation: (typeof FUSED_ACTIVATIONS)[number], x: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
  const apply: Record<typeof activation, () => tf.Tensor> = {
    linear: () => x,
    relu: () => tf.relu(x),
    relu6: () => tf.relu6(x),
    elu: () => tf.elu(x),
    sigmoid: () => tf.sigmoid(x),
    leakyrelu: () => tf.leakyRelu(x, 0.3),
    prelu: () => tf.prelu(x, alpha),
  };
  return apply[activation]();
}

/** [..., r, c] data laid out as [..., c, r]. */
function swapLastTwo(data: Float32Array, batches: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let p = 0; p < batches; p++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[(p * cols + c) * rows + r] = data[(p * rows + r) * cols + c]!;
  return out;
}

const WEIGHT_PRODUCT_FROM = weightProductFrom.macs;

// wasm's batched BatchMatMul in keras-bridge's SIMD tiles (wasm-simd/product-tiles.ts, batch-mat-mul-composed.ts).
describe('wasm: batched products in SIMD tiles on the heap (src/backends/wasm-simd/product-tiles.ts)', function () {
  onWasm({ activate: true });
  /** How the backend's tiles round: fused where the runtime and the machine can (relaxed-simd.ts). */
  const multiplyAdd = () => wasmHeapKernels(tf.backend())!.productMultiplyAdd;

  it('120 random batched products, either operand transposed or not, equal float32 sums in depth order bit for bit, through the tiles', () => {
    const all = cases(120);
    const before = simdProductCalls.count;
    const tensors = tf.memory().numTensors;
    all.forEach((c, i) => {
      const batches = c.batch.reduce((p, d) => p * d, 1);
      const a = values([batches, c.m, c.k], 2 * i + 1);
      const b = values([batches, c.k, c.n], 2 * i + 2);
      const expected = sequentialFloat32(a, b, batches, c.m, c.k, c.n, multiplyAdd());
      const aGiven = c.transposeA ? swapLastTwo(a, batches, c.m, c.k) : a;
      const bGiven = c.transposeB ? swapLastTwo(b, batches, c.k, c.n) : b;
      const got = tf.tidy(() => {
        const at = tf.tensor(aGiven, [...c.batch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])]);
        const bt = tf.tensor(bGiven, [...c.batch, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])]);
        const product = tf.matMul(at, bt, c.transposeA, c.transposeB);
        assert.deepEqual(product.shape, [...c.batch, c.m, c.n]);
        return product.dataSync() as Float32Array;
      });
      assert.deepEqual(got, expected, `case ${i}: ${JSON.stringify(c)}`);
    });
    assert.equal(simdProductCalls.count - before, all.length);
    assert.equal(tf.memory().numTensors, tensors);
  });

  it('aᵀ·b of one batch with b the narrower (a 1x1 filter gradient xᵀ·dy) runs as (bᵀ·a)ᵀ, equal to float32 sums in depth order bit for bit', () => {
    // Depths past DEPTH_BLOCK (sums carried across blocks), rows and columns past whole panels and tiles.
    const shapes: Array<[number, number, number]> = [[600, 100, 20], [1100, 61, 18], [300, 250, 64]];
    for (const [k, m, n] of shapes) {
      const a = values([k, m], k + m);
      const b = values([k, n], k + n);
      const expected = sequentialFloat32(swapLastTwo(a, 1, k, m), b, 1, m, k, n, multiplyAdd());
      const [narrower, tiles] = [narrowerTransposedCalls.count, simdProductCalls.count];
      const got = tf.tidy(() => tf.matMul(tf.tensor(a, [1, k, m]), tf.tensor(b, [1, k, n]), true, false).dataSync() as Float32Array);
      assert.equal(narrowerTransposedCalls.count - narrower, 1, `[${k}, ${m}]ᵀ·[${k}, ${n}] turned`);
      assert.equal(simdProductCalls.count - tiles, 1, 'one product in the tiles');
      assert.deepEqual(got, expected, `[${k}, ${m}]ᵀ·[${k}, ${n}]`);
    }
    // b the wider: a is transposed as before.
    const before = narrowerTransposedCalls.count;
    tf.tidy(() => tf.matMul(tf.tensor(values([600, 20], 1), [1, 600, 20]), tf.tensor(values([600, 100], 2), [1, 600, 100]), true, false).dataSync());
    assert.equal(narrowerTransposedCalls.count, before);
  });

  it('one product (a\'s batches as rows, b unbatched): a new right operand in tiles, one seen before (a weight) left to XNNPACK, which keeps it packed', () => {
    const [m, k, n] = [70, 130, 150];
    const a = values([m, k], 11);
    const w = values([k, n], 12);
    const expected = sequentialFloat32(a, w, 1, m, k, n, multiplyAdd());
    const weight = tf.tensor(w, [k, n]);
    for (let call = 0; call < 3; call++) {
      const before = simdProductCalls.count;
      const got = tf.tidy(() => tf.matMul(tf.tensor(a, [2, m / 2, k]), weight).dataSync() as Float32Array);
      assert.equal(simdProductCalls.count - before, call === 0 ? 1 : 0, `call ${call}`);
      if (call === 0) assert.deepEqual(got, expected);
      else assertWithinDotProductBound(got, a, w, 1, m, k, n, `call ${call}`);
    }
    weight.dispose();
  });

  it('from weightProductFrom\'s size a weight (a right operand seen before) runs in the tiles too, its panels kept from its second use and freed with it', () => {
    // A product past PARALLEL_FROM_MACS, where the tiles take one product at all; columns past the last panel too.
    const [m, k, n] = [128, 96, 100];
    assert.ok(m * k * n >= PARALLEL_FROM_MACS);
    const a = values([m, k], 41);
    const w = values([k, n], 42);
    const expected = sequentialFloat32(a, w, 1, m, k, n, multiplyAdd());
    const weight = tf.tensor(w, [k, n]);
    const derived = derivedTensorCount(tf.backend());
    weightProductFrom.macs = 0;
    try {
      for (let call = 0; call < 4; call++) {
        const before = simdProductCalls.count;
        assert.deepEqual(tf.tidy(() => tf.matMul(tf.tensor(a, [m, k]), weight).dataSync() as Float32Array), expected, `call ${call}`);
        assert.equal(simdProductCalls.count - before, 1, `call ${call} in the tiles`);
      }
      assert.equal(derivedTensorCount(tf.backend()), derived + 1, 'the weight\'s panels kept');
    } finally {
      weightProductFrom.macs = WEIGHT_PRODUCT_FROM;
    }
    weight.dispose();
    assert.equal(derivedTensorCount(tf.backend()), derived, 'and freed with it');
  });

  for (const [m, k, n] of [[24, 50, 20], [6, 300, 1000]] as const) {
  it(`a Dense layer's fused product with a weight (bias, each of tfjs's activations) is the tiles' sums, the bias and the activation, bit for bit, from weightProductFrom's size: [${m}, ${k}]·[${k}, ${n}]${cutByColumns({ a: 0, b: 0, c: 0, batches: 1, m, k, n }, 8) ? ', cut by columns' : ''}`, () => {
    const a = values([1, m, k], 51);
    const w = values([1, k, n], 52);
    const b = values([n], 53);
    const product = sequentialFloat32(a, w, 1, m, k, n, multiplyAdd());
    const activations = FUSED_ACTIVATIONS;
    const weight = tf.tensor(w, [1, k, n]);
    const tensors = tf.memory().numTensors;
    weightProductFrom.macs = 0;
    try {
      // Its first product is a new right operand's (XNNPACK's fused kernel); from the second it is a weight.
      const before = denseProductCalls.count;
      tf.tidy(() => tf.fused.matMul({ a: tf.tensor(a, [1, m, k]), b: weight }).dataSync());
      assert.equal(denseProductCalls.count, before);
      for (const activation of activations) {
        for (let call = 0; call < 2; call++) {
          const before = denseProductCalls.count;
          const [got, expected] = tf.tidy(() => {
            const bias = tf.tensor(b);
            const alpha = tf.tensor(values([n], 54));
            const fused = tf.fused.matMul({ a: tf.tensor(a, [1, m, k]), b: weight, bias, activation, preluActivationWeights: alpha, leakyreluAlpha: 0.3 });
            // The bias added in float32 after the sums, then the activation as the backend computes it.
            const biased = tf.tensor(product.map((v, i) => Math.fround(v + b[i % n]!)), [1, m, n]);
            return [fused.dataSync(), fusedActivation(activation, biased, alpha).dataSync()];
          });
          assert.equal(denseProductCalls.count - before, 1, `${activation}, call ${call}: in the tiles (the weight seen before)`);
          assert.deepEqual(got, expected, `${activation}, call ${call}`);
        }
      }
    } finally {
      weightProductFrom.macs = WEIGHT_PRODUCT_FROM;
    }
    weight.dispose();
    assert.equal(tf.memory().numTensors, tensors - 1);
  });
  }

  it('a fused batched product (bias, each of tfjs\'s activations) is the tiles\' product, then the bias, then the activation, bit for bit', () => {
    const [batches, m, k, n] = [3, 16, 96, 40];
    const a = values([batches, m, k], 21);
    const w = values([batches, k, n], 22);
    const product = sequentialFloat32(a, w, batches, m, k, n, multiplyAdd());
    const activations = FUSED_ACTIVATIONS;
    const before = simdProductCalls.count;
    const tensors = tf.memory().numTensors;
    for (const activation of activations) {
      const [got, expected] = tf.tidy(() => {
        const bias = tf.tensor(values([n], 23));
        const alpha = tf.tensor(values([n], 24));
        const fused = tf.fused.matMul({ a: tf.tensor(a, [batches, m, k]), b: tf.tensor(w, [batches, k, n]), bias, activation, preluActivationWeights: alpha, leakyreluAlpha: 0.3 });
        const biased = tf.add(tf.tensor(product, [batches, m, n]), bias);
        return [fused.dataSync(), fusedActivation(activation, biased, alpha).dataSync()];
      });
      assert.deepEqual(got, expected, activation);
    }
    assert.equal(simdProductCalls.count - before, activations.length);
    assert.equal(tf.memory().numTensors, tensors);
  });

  it('what the tiles do not take runs tfjs\'s kernel, with the same values: fewer than 4 columns, one batch, broadcast batches', () => {
    const before = simdProductCalls.count;
    for (const [aShape, bShape] of [[[3, 5, 6], [3, 6, 3]], [[1, 7, 9], [1, 9, 8]], [[3, 4, 5], [1, 5, 8]]] as const) {
      const a = values([...aShape], 7);
      const b = values([...bShape], 8);
      const got = tf.tidy(() => tf.matMul(tf.tensor(a, [...aShape]), tf.tensor(b, [...bShape])).dataSync());
      const batches = aShape[0];
      const bFull = bShape[0] === batches ? b : Float32Array.from({ length: batches * b.length }, (_, i) => b[i % b.length]!);
      assertWithinDotProductBound(got, a, bFull, batches, aShape[1], aShape[2], bShape[2], `${aShape}·${bShape}`);
    }
    assert.equal(simdProductCalls.count, before);
  });
});

describe('SIMD products cut among kernel threads (src/backends/wasm-simd/kernel-threads.ts, product-tiles.ts batchedProduct)', () => {
  const functions = productTileFunctions(productMultiplyAdd());
  const names = functions.map((f) => f.name);
  const tiles = productTilesOf(names);

  /** A product's operands written into `memory`, and its float32 sums in depth order. */
  function setUp(memory: WebAssembly.Memory, p: { batches: number; m: number; k: number; n: number }, seed: number) {
    const a = values([p.batches, p.m, p.k], seed);
    const b = values([p.batches, p.k, p.n], seed + 1);
    const heap = new Float32Array(memory.buffer);
    const [aAt, bAt, cAt] = [16, 16 + a.length, 16 + a.length + b.length];
    heap.set(a, aAt);
    heap.set(b, bAt);
    heap.fill(Number.NaN, cAt, cAt + p.batches * p.m * p.n);
    const product: BatchedProduct = { ...p, a: 4 * aAt, b: 4 * bAt, c: 4 * cAt };
    return { product, expected: sequentialFloat32(a, b, p.batches, p.m, p.k, p.n, productMultiplyAdd()), result: () => new Float32Array(memory.buffer, 4 * cAt, p.batches * p.m * p.n).slice() };
  }

  it('a run of rows is cut into blocks of whole row pairs whose rows of a, over a depth block, fit ROW_BLOCK_BYTES', () => {
    for (const [first, end, k] of [[0, 100352, 64], [6, 12550, 256], [0, 1201, 300], [10, 11, 3000], [0, 5, 1]] as const) {
      const blocks = rowBlocks([first, end], k);
      assert.equal(blocks[0]![0], first);
      assert.equal(blocks.at(-1)![1], end);
      blocks.forEach(([from, to], i) => {
        if (i > 0) assert.equal(from, blocks[i - 1]![1], 'contiguous');
        if (i < blocks.length - 1) assert.equal((to - from) % 2, 0, 'whole row pairs');
        assert.ok((to - from) * 4 * Math.min(k, DEPTH_BLOCK) <= Math.max(ROW_BLOCK_BYTES, 2 * 4 * DEPTH_BLOCK), `[${from}, ${to}) of depth ${k}`);
      });
    }
    assert.equal(rowBlocks([0, 100352], 64).length, 100352 / (ROW_BLOCK_BYTES / 256));
  });

  it('every cut (by batches, by rows, more chunks than rows) gives the same values bit for bit', () => {
    const memory = new WebAssembly.Memory({ initial: 160 });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(wasmModule({ shared: false }, functions)), { env: { memory } }).exports;
    const own = names.map((name) => exports[name] as (...args: number[]) => void);
    // Threads that run their parts one after the other on the caller: the cut alone is under test.
    const inTurn = threadsInTurn(own);
    const cases = [{ batches: 3, m: 33, k: 130, n: 90 }, { batches: 1, m: 129, k: 100, n: 83 }, { batches: 2, m: 3, k: 600, n: 700 }, { batches: 1, m: 9, k: 400, n: 1000 }, { batches: 1, m: 5, k: 3000, n: 100 }, { batches: 1, m: 1201, k: 300, n: 36 }, { batches: 9, m: 301, k: 260, n: 20 }];
    // The third to fifth are cut by columns (b past COLUMN_CUT_FROM_BYTES, fewer rows than columns) for up to 4 threads' chunks; the fifth has 6 panels, fewer than the chunks, one chunk a panel.
    assert.deepEqual(cases.map((p) => cutByColumns({ ...p, a: 0, b: 0, c: 0 }, 16)), [false, false, true, true, true, false, false]);
    // The last two have more rows of a than one call reads (rowBlocks): by rows and by batches, each row run in blocks, the odd last row in the last.
    assert.ok(rowBlocks([0, 1201], 300).length > 4 && rowBlocks([0, 301], 260).length > 1);
    for (const [i, p] of cases.entries()) {
      assert.ok(p.batches * p.m * p.k * p.n >= PARALLEL_FROM_MACS);
      const { product, expected, result } = setUp(memory, p, 100 + i);
      // b's panels packed into scratch past the operands, or read in place.
      const scratch = product.c + 4 * expected.length + 64;
      assert.ok(scratch + packedBytes(p.batches, p.k, p.n) <= memory.buffer.byteLength);
      for (const packed of [undefined, scratch])
        for (const count of [1, 2, 3, 5]) {
          new Float32Array(memory.buffer).fill(Number.NaN, product.c / 4, product.c / 4 + expected.length);
          batchedProduct(inTurn(count), tiles, { ...product, ...(packed === undefined ? {} : { packed }) });
          assert.deepEqual(result(), expected, `${JSON.stringify(p)} cut for ${count} threads, ${packed === undefined ? 'b in place' : 'b packed'}`);
        }
    }
  });

  it('batches of a and c laid apart (aBatchBytes, cBatchBytes: an odd number of cache lines, batchStride) give the same values, and leave the gaps alone', () => {
    assert.deepEqual([1, 64, 65, 128, 4096, 4100].map(batchStride), [64, 64, 192, 192, 4160, 4160]);
    const memory = new WebAssembly.Memory({ initial: 160 });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(wasmModule({ shared: false }, functions)), { env: { memory } }).exports;
    const own = names.map((name) => exports[name] as (...args: number[]) => void);
    const inTurn = threadsInTurn(own);
    const p = { batches: 5, m: 16, k: 64, n: 36 };
    const { product, expected } = setUp(memory, p, 31);
    const heap = new Float32Array(memory.buffer);
    // a's batches copied out to a stride of batchStride(m·k·4) past everything setUp wrote.
    const [aStride, cStride] = [batchStride(4 * p.m * p.k), batchStride(4 * p.m * p.n)];
    const aAt = product.c + 4 * expected.length + 64;
    const cAt = aAt + p.batches * aStride;
    heap.fill(7, aAt / 4, (cAt + p.batches * cStride) / 4);
    for (let batch = 0; batch < p.batches; batch++) heap.copyWithin((aAt + batch * aStride) / 4, product.a / 4 + batch * p.m * p.k, product.a / 4 + (batch + 1) * p.m * p.k);
    for (const count of [1, 3]) {
      batchedProduct(inTurn(count), tiles, { ...product, a: aAt, c: cAt, aBatchBytes: aStride, cBatchBytes: cStride });
      for (let batch = 0; batch < p.batches; batch++) {
        const c = heap.slice((cAt + batch * cStride) / 4, (cAt + batch * cStride) / 4 + p.m * p.n);
        assert.deepEqual(c, expected.slice(batch * p.m * p.n, (batch + 1) * p.m * p.n), `batch ${batch}, ${count} threads`);
        const gap = heap.slice((cAt + batch * cStride) / 4 + p.m * p.n, (cAt + (batch + 1) * cStride) / 4);
        assert.ok(gap.every((v) => v === 7), `the gap after batch ${batch} of c`);
      }
    }
  });

  it('more chunks or calls than one job holds run as successive jobs, a chunk too large for any on the caller, with the same values', () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const module = new WebAssembly.Module(wasmModule({ shared: true }, functions));
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    const threads = startKernelThreads(module, memory, names, names.map((name) => exports[name] as (...args: number[]) => void), 2);
    const { product, expected, result } = setUp(memory, { batches: 1, m: 16_400, k: 4, n: 16 }, 13);
    // One chunk per row: 16,400 chunks of one call each (a job holds 1,024 chunks).
    const perRow = Array.from({ length: product.m }, (_, row) => productCalls(tiles, product, [0, 1], [row, row + 1]));
    assert.ok(perRow.every((chunk) => chunk.length === 1));
    threads.run(perRow);
    assert.deepEqual(result(), expected);
    // Every call in one chunk (16,400 calls; a job holds 16,384), beside a small one.
    new Float32Array(memory.buffer).fill(Number.NaN, product.c / 4, product.c / 4 + expected.length);
    threads.run([perRow.slice(1).flat(), perRow[0]!]);
    assert.deepEqual(result(), expected);
  });

  it('helpers that cannot start (a module they cannot instantiate) or do not start in time leave every part to the caller', () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const module = new WebAssembly.Module(wasmModule({ shared: true }, functions));
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    const own = names.map((name) => exports[name] as (...args: number[]) => void);
    // A module importing a function env.f, which the helper does not give it.
    const needsF = new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 2, 9, 1, 3, 0x65, 0x6e, 0x76, 1, 0x66, 0, 0]));
    for (const [helperModule, limit] of [[needsF, 60_000], [module, 0]] as const) {
      const threads = startKernelThreads(helperModule, memory, names, own, 2, limit);
      const { product, expected, result } = setUp(memory, { batches: 4, m: 40, k: 96, n: 70 }, 9);
      const started = Date.now();
      batchedProduct(threads, tiles, product);
      assert.ok(Date.now() - started < 30_000, 'the caller did not wait for the limit');
      assert.deepEqual(result(), expected);
    }
  });

  it('a helper thread on a shared memory claims chunks, and a failure on any thread is the caller\'s error', () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const module = new WebAssembly.Module(wasmModule({ shared: true }, functions));
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    const threads = startKernelThreads(module, memory, names, names.map((name) => exports[name] as (...args: number[]) => void), 2);
    assert.equal(threads.count, 2);
    const { product, expected, result } = setUp(memory, { batches: 4, m: 40, k: 96, n: 70 }, 7);
    batchedProduct(threads, tiles, product);
    assert.deepEqual(result(), expected);
    // Chunks reading past the memory's end: a trap on either thread comes back as an error here
    // (the helper's says so); the next chunks are not run.
    const outside = { fn: tiles.narrowRow, args: [memory.buffer.byteLength, 0, 16, 4, 16, 16, 16, 1, 1, 16, 0] };
    assert.throws(() => threads.run(Array.from({ length: 8 }, () => [outside])), /out of bounds/);
    // The helper goes on taking work after a failure of a call.
    new Float32Array(memory.buffer).fill(Number.NaN, product.c / 4, product.c / 4 + expected.length);
    batchedProduct(threads, tiles, product);
    assert.deepEqual(result(), expected);
  });
});
