import type { KernelThreads } from './kernel-threads.js';
import { tapRuns, tapTable, tapTableCalls, tapTableFunction, type FilterGeometry, type TapTableFunctions } from './filter-taps.js';
import type { WasmFunction } from './wasm-binary.js';

/** `depthwiseTapsN` for N = 4 or 16 channels: a depthwise filter gradient's sums over a tap table, x · dy lane by lane (filter-taps.ts, tapTableFunction). */
export const depthwiseTapsFunction = (channels: 4 | 16): WasmFunction => tapTableFunction(`depthwiseTaps${channels}`, channels, 'vector');

/** A depthwise convolution (channel multiplier 1, no dilation), NHWC, as its filter gradient needs it. */
export interface DepthwiseGeometry extends FilterGeometry {
  channels: number;
}

/**
 * dW[i, j, c] = Σ over images b and output pixels (oh, ow) of x[b, oh·sh + i - top, ow·sw + j - left, c]
 * · dy[b, oh, ow, c], padding read as zeros: per image and output row in order, per tap whose window
 * reaches inside x there, per 16 channels (then 4), the row's sums, added to the total once
 * (filter-taps.ts, tapTableFunction: `fns` are the module's indices of depthwiseTapsFunction(16)
 * and (4)). The blocks of channels are cut among `threads`, each block's totals its own, so the
 * sums are the same whatever the cut; MobileNetV2's 17 at batch 32 took 156 ms on one thread.
 * Offsets are float32 elements of the heap (`table`: tapTableWords of room); `out`
 * (filterHeight · filterWidth · channels) is overwritten. channels % 4 must be 0.
 */
export function depthwiseFilterGradient(threads: KernelThreads, fns: TapTableFunctions, heap: Float32Array, x: number, dy: number, out: number, table: number, g: DepthwiseGeometry): void {
  const c = g.channels;
  if (c % 4 !== 0) throw new Error(`depthwiseFilterGradient: ${c} channels, not a multiple of 4`);
  heap.fill(0, out, out + g.filterHeight * g.filterWidth * c);
  new Int32Array(heap.buffer, heap.byteOffset, heap.length).set(tapTable({ ...g, xChannels: c, dyChannels: c, x: 'vector' }), table);
  const macs = tapRuns(g).reduce((sum, run) => sum + g.batch * run.rows * run.pixels, 0) * c;
  threads.run(tapTableCalls(threads, fns, { x: 4 * x, dy: 4 * dy, out: 4 * out, table: 4 * table }, g.batch, c, macs));
}
