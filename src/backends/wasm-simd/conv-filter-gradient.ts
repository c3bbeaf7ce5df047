import type { KernelThreads } from './kernel-threads.js';
import { TAP_TABLE_ENTRY, TAP_TABLE_HEADER, tapRuns, tapTable, tapTableCalls, tapTableFunction, type FilterGeometry, type TapTableFunctions } from './filter-taps.js';
import type { WasmFunction } from './wasm-binary.js';

/**
 * `outerTapsN` for N = 4 or 16 output channels: a filter gradient's sums over a tap table, each input
 * channel's value splat against N output channels of dy (filter-taps.ts, tapTableFunction).
 */
export const outerTapsFunction = (channels: 4 | 16): WasmFunction => tapTableFunction(`outerTaps${channels}`, channels, 'splat');

/** A convolution (no dilation), NHWC, as its filter gradient needs it. */
export interface ConvGeometry extends FilterGeometry {
  inChannels: number;
  outChannels: number;
}

/** Int32 words of heap the tap table of a filter gradient of `g` takes (convFilterGradient's `table`). */
export function tapTableWords(g: FilterGeometry): number {
  return TAP_TABLE_HEADER + TAP_TABLE_ENTRY * g.filterHeight * g.filterWidth;
}

/**
 * dW[i, j, ci, co] = Σ over images b and output pixels (oh, ow) of x[b, oh·sh + i - top, ow·sw + j - left, ci]
 * · dy[b, oh, ow, co], padding read as zeros: per image and output row in order, per tap whose
 * window reaches inside x there, per input channel and 16 output channels (then 4), the row's sums,
 * added to the total once (filter-taps.ts, tapTableFunction: `fns` are the module's indices of
 * outerTapsFunction(16) and (4)). No im2col: for a network's first layer (3 input channels), whose
 * taps as a matrix cost more to lay out than the product. The blocks of output channels are cut
 * among `threads`, each block's totals its own, so the sums are the same whatever the cut; ResNet50's
 * 7x7 stem at batch 32 took 237-262 ms on one thread. Offsets are float32 elements of the heap
 * (`table`: tapTableWords of room); `out` ([kh, kw, ci, co]) is overwritten. outChannels % 4 must be 0.
 */
export function convFilterGradient(threads: KernelThreads, fns: TapTableFunctions, heap: Float32Array, x: number, dy: number, out: number, table: number, g: ConvGeometry): void {
  const [ci, co] = [g.inChannels, g.outChannels];
  if (co % 4 !== 0) throw new Error(`convFilterGradient: ${co} output channels, not a multiple of 4`);
  heap.fill(0, out, out + g.filterHeight * g.filterWidth * ci * co);
  new Int32Array(heap.buffer, heap.byteOffset, heap.length).set(tapTable({ ...g, xChannels: ci, dyChannels: co, x: 'splat' }), table);
  const macs = tapRuns(g).reduce((sum, run) => sum + g.batch * run.rows * run.pixels, 0) * ci * co;
  threads.run(tapTableCalls(threads, fns, { x: 4 * x, dy: 4 * dy, out: 4 * out, table: 4 * table }, g.batch, co, macs));
}
