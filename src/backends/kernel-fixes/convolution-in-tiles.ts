import type { ComposedCompute } from './composed-kernel.js';
import { pointwiseConv2D } from './conv-pointwise.js';
import { winogradConv2D } from './winograd-conv2d.js';

/**
 * wasm's Conv2D and FusedConv2D in keras-bridge's SIMD tiles, where one of its ways takes the
 * convolution: a 3x3 filter of stride 1 as Winograd F(2x2, 3x3), a 1x1 filter of stride 1 as one
 * product. Anything else: undefined, and XNNPACK runs it.
 */
export const convolutionInTiles: ComposedCompute = (inputs, attrs, r) => winogradConv2D(inputs, attrs, r) ?? pointwiseConv2D(inputs, attrs, r);
