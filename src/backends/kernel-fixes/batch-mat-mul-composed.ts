import type { ComposedCompute } from './composed-kernel.js';

/**
 * BatchMatMul with a transposed operand as an explicit Transpose and a plain BatchMatMul.
 * tfjs-backend-wasm's kernel reads a transposed operand in place, against the grain: measured
 * 83 ms against 2.6 ms untransposed for [128x256]ᵀ·[128x1024], 24 ms for the transposed right
 * operand, while the Transpose costs under 1 ms. Every matMul gradient takes one (dW = xᵀ·dy,
 * dx = dy·Wᵀ): they were 350 of 620 ms of the Transformer block's backward pass at batch 1.
 * No transpose: undefined, and tfjs's kernel runs as before.
 */
export const batchMatMul: ComposedCompute = (inputs, attrs, r) => {
  const transposeA = attrs['transposeA'] === true;
  const transposeB = attrs['transposeB'] === true;
  if (!transposeA && !transposeB) return undefined;
  const swapLastTwo = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  const a = transposeA ? r.transpose(inputs['a']!, swapLastTwo(inputs['a']!.shape.length)) : inputs['a']!;
  const b = transposeB ? r.transpose(inputs['b']!, swapLastTwo(inputs['b']!.shape.length)) : inputs['b']!;
  return r.original({ a, b }, { ...attrs, transposeA: false, transposeB: false });
};
