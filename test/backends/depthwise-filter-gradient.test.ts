import assert from 'node:assert/strict';
import { tapTableWords } from '../../src/backends/wasm-simd/conv-filter-gradient.js';
import { depthwiseFilterGradient, depthwiseTapsFunction, type DepthwiseGeometry } from '../../src/backends/wasm-simd/depthwise-filter-gradient.js';
import { assertFilterGradientCase } from '../support/tap-cuts.js';
import { tapSumsInFloat32 } from '../support/tap-sums-in-float32.js';
import { threadsInTurn } from '../support/threads-in-turn.js';
import { wasmModule } from '../../src/backends/wasm-simd/wasm-binary.js';
import { generator } from '../support/heap-cases.js';

/** The filter gradient in float64, straight from its definition (padding read as zeros). */
function reference(x: Float32Array, dy: Float32Array, g: DepthwiseGeometry): Float64Array {
  const out = new Float64Array(g.filterHeight * g.filterWidth * g.channels);
  for (let b = 0; b < g.batch; b++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let i = 0; i < g.filterHeight; i++)
          for (let j = 0; j < g.filterWidth; j++) {
            const row = oh * g.strideHeight + i - g.top;
            const col = ow * g.strideWidth + j - g.left;
            if (row < 0 || row >= g.height || col < 0 || col >= g.width) continue;
            for (let c = 0; c < g.channels; c++) out[(i * g.filterWidth + j) * g.channels + c] += x[((b * g.height + row) * g.width + col) * g.channels + c]! * dy[((b * g.outHeight + oh) * g.outWidth + ow) * g.channels + c]!;
          }
  return out;
}

/** The kernel's sums in float32 (tapSumsInFloat32): each channel against itself. */
function inFloat32(x: Float32Array, dy: Float32Array, g: DepthwiseGeometry): Float32Array {
  const c = g.channels;
  return tapSumsInFloat32(g, c, (b, row, col, p) => x[((b * g.height + row) * g.width + col) * c + p]!, (b, oh, ow, p) => dy[((b * g.outHeight + oh) * g.outWidth + ow) * c + p]!);
}

describe('depthwiseFilterGradient: the depthwise filter gradient in wasm SIMD (src/backends/wasm-simd/depthwise-filter-gradient.ts)', () => {
  const memory = new WebAssembly.Memory({ initial: 64 });
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasmModule({ shared: false }, [depthwiseTapsFunction(16), depthwiseTapsFunction(4)])), { env: { memory } });
  const own = [exports['depthwiseTaps16'], exports['depthwiseTaps4']] as Array<(...args: number[]) => void>;
  const fns = { wide: 0, narrow: 1 };
  const inTurn = threadsInTurn(own);

  const geometries: Array<Omit<DepthwiseGeometry, 'outHeight' | 'outWidth'> & { pad: 'same' | 'valid' }> = [
    { batch: 1, height: 5, width: 5, channels: 4, filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, top: 1, left: 1, pad: 'same' },
    { batch: 2, height: 9, width: 8, channels: 20, filterHeight: 5, filterWidth: 5, strideHeight: 2, strideWidth: 2, top: 2, left: 1, pad: 'same' },
    { batch: 3, height: 7, width: 11, channels: 36, filterHeight: 3, filterWidth: 2, strideHeight: 2, strideWidth: 3, top: 0, left: 0, pad: 'valid' },
    { batch: 1, height: 1, width: 9, channels: 16, filterHeight: 1, filterWidth: 3, strideHeight: 1, strideWidth: 2, top: 0, left: 1, pad: 'same' },
  ];
  for (const { pad, ...shape } of geometries) {
    const outHeight = pad === 'same' ? Math.ceil(shape.height / shape.strideHeight) : Math.floor((shape.height - shape.filterHeight) / shape.strideHeight) + 1;
    const outWidth = pad === 'same' ? Math.ceil(shape.width / shape.strideWidth) : Math.floor((shape.width - shape.filterWidth) / shape.strideWidth) + 1;
    const g: DepthwiseGeometry = { ...shape, outHeight, outWidth };
    it(`${g.batch}x${g.height}x${g.width}x${g.channels}, ${g.filterHeight}x${g.filterWidth} stride ${g.strideHeight}x${g.strideWidth} ${pad}: float64's sums within float32 rounding, nothing written outside`, () => {
      const pick = generator(g.channels * 31 + g.height);
      const heap = new Float32Array(memory.buffer);
      assertFilterGradientCase({
        heap,
        pick,
        sizes: { x: g.batch * g.height * g.width * g.channels, dy: g.batch * outHeight * outWidth * g.channels, out: g.filterHeight * g.filterWidth * g.channels },
        geometry: g,
        reference,
        inFloat32,
        tableWords: tapTableWords(g),
        run: (threads, at) => depthwiseFilterGradient(inTurn(threads), fns, heap, at.x, at.dy, at.out, at.table, g),
      });
    });
  }

  it('refuses channels that are not a multiple of 4', () => {
    const g: DepthwiseGeometry = { batch: 1, height: 2, width: 2, channels: 6, outHeight: 2, outWidth: 2, filterHeight: 1, filterWidth: 1, strideHeight: 1, strideWidth: 1, top: 0, left: 0 };
    assert.throws(() => depthwiseFilterGradient(inTurn(1), fns, new Float32Array(memory.buffer), 0, 64, 128, 256, g), /multiple of 4/);
  });
});
