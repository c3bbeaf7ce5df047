import assert from 'node:assert/strict';
import { convFilterGradient, outerTapsFunction, tapTableWords, type ConvGeometry } from '../../src/backends/wasm-simd/conv-filter-gradient.js';
import { assertFilterGradientCase } from '../support/tap-cuts.js';
import { tapSumsInFloat32 } from '../support/tap-sums-in-float32.js';
import { threadsInTurn } from '../support/threads-in-turn.js';
import { wasmModule } from '../../src/backends/wasm-simd/wasm-binary.js';
import { generator } from '../support/heap-cases.js';

/** The filter gradient in float64, straight from its definition (padding read as zeros). */
function reference(x: Float32Array, dy: Float32Array, g: ConvGeometry): Float64Array {
  const [ci, co] = [g.inChannels, g.outChannels];
  const out = new Float64Array(g.filterHeight * g.filterWidth * ci * co);
  for (let b = 0; b < g.batch; b++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let i = 0; i < g.filterHeight; i++)
          for (let j = 0; j < g.filterWidth; j++) {
            const row = oh * g.strideHeight + i - g.top;
            const col = ow * g.strideWidth + j - g.left;
            if (row < 0 || row >= g.height || col < 0 || col >= g.width) continue;
            for (let c = 0; c < ci; c++)
              for (let o = 0; o < co; o++) out[((i * g.filterWidth + j) * ci + c) * co + o] += x[((b * g.height + row) * g.width + col) * ci + c]! * dy[((b * g.outHeight + oh) * g.outWidth + ow) * co + o]!;
          }
  return out;
}

/** The kernel's sums in float32 (tapSumsInFloat32): channel pair p = (c, o), x's channel c against dy's o. */
function inFloat32(x: Float32Array, dy: Float32Array, g: ConvGeometry): Float32Array {
  const [ci, co] = [g.inChannels, g.outChannels];
  return tapSumsInFloat32(g, ci * co, (b, row, col, p) => x[((b * g.height + row) * g.width + col) * ci + Math.floor(p / co)]!, (b, oh, ow, p) => dy[((b * g.outHeight + oh) * g.outWidth + ow) * co + (p % co)]!);
}

describe('convFilterGradient: a convolution\'s filter gradient without im2col, in wasm SIMD (src/backends/wasm-simd/conv-filter-gradient.ts)', () => {
  const memory = new WebAssembly.Memory({ initial: 64 });
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasmModule({ shared: false }, [outerTapsFunction(16), outerTapsFunction(4)])), { env: { memory } });
  const own = [exports['outerTaps16'], exports['outerTaps4']] as Array<(...args: number[]) => void>;
  const fns = { wide: 0, narrow: 1 };
  const inTurn = threadsInTurn(own);

  const geometries: Array<Omit<ConvGeometry, 'outHeight' | 'outWidth'> & { pad: 'same' | 'valid' }> = [
    { batch: 1, height: 9, width: 9, inChannels: 3, outChannels: 32, filterHeight: 3, filterWidth: 3, strideHeight: 2, strideWidth: 2, top: 1, left: 1, pad: 'same' },
    { batch: 2, height: 11, width: 10, inChannels: 3, outChannels: 20, filterHeight: 7, filterWidth: 7, strideHeight: 2, strideWidth: 2, top: 3, left: 2, pad: 'same' },
    { batch: 3, height: 7, width: 8, inChannels: 1, outChannels: 4, filterHeight: 2, filterWidth: 3, strideHeight: 1, strideWidth: 3, top: 0, left: 0, pad: 'valid' },
    { batch: 1, height: 5, width: 6, inChannels: 4, outChannels: 48, filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, top: 1, left: 1, pad: 'same' },
  ];
  for (const { pad, ...shape } of geometries) {
    const outHeight = pad === 'same' ? Math.ceil(shape.height / shape.strideHeight) : Math.floor((shape.height - shape.filterHeight) / shape.strideHeight) + 1;
    const outWidth = pad === 'same' ? Math.ceil(shape.width / shape.strideWidth) : Math.floor((shape.width - shape.filterWidth) / shape.strideWidth) + 1;
    const g: ConvGeometry = { ...shape, outHeight, outWidth };
    it(`${g.batch}x${g.height}x${g.width}x${g.inChannels} to ${g.outChannels}, ${g.filterHeight}x${g.filterWidth} stride ${g.strideHeight}x${g.strideWidth} ${pad}: float64's sums within float32 rounding, nothing written outside`, () => {
      const pick = generator(g.outChannels * 31 + g.height);
      const heap = new Float32Array(memory.buffer);
      assertFilterGradientCase({
        heap,
        pick,
        sizes: { x: g.batch * g.height * g.width * g.inChannels, dy: g.batch * outHeight * outWidth * g.outChannels, out: g.filterHeight * g.filterWidth * g.inChannels * g.outChannels },
        geometry: g,
        reference,
        inFloat32,
        tableWords: tapTableWords(g),
        run: (threads, at) => convFilterGradient(inTurn(threads), fns, heap, at.x, at.dy, at.out, at.table, g),
      });
    });
  }

  it('refuses output channels that are not a multiple of 4', () => {
    const g: ConvGeometry = { batch: 1, height: 3, width: 3, inChannels: 3, outChannels: 6, outHeight: 1, outWidth: 1, filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, top: 0, left: 0 };
    assert.throws(() => convFilterGradient(inTurn(1), fns, new Float32Array(memory.buffer), 0, 64, 128, 256, g), /multiple of 4/);
  });
});
