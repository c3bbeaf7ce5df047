import { BROADCAST_OPERATIONS, type BroadcastOperation } from './broadcast-binary.js';
import { Code, I32, type WasmFunction } from './wasm-binary.js';

/** The function's export name. */
export const binaryVectorsName = (operation: BroadcastOperation) => `${operation}_vectors`;

/**
 * `{operation}_vectors(a, b, out, vectors)`: out = a ∘ b over `vectors` of 4 float32 from bytes a,
 * b and out, for operands of one shape (a residual connection's Add, a gradient's sum). One SIMD
 * instruction per 4 elements, rounded once as the scalar operation is.
 */
export function binaryVectorsFunction(operation: BroadcastOperation): WasmFunction {
  const [a, b, out, vectors] = [0, 1, 2, 3];
  const apply = BROADCAST_OPERATIONS[operation];
  const body = new Code().block((exit) =>
    exit.get(vectors).i32Eqz().brIf(0).loop((next) => {
      apply(next.get(out).get(a).v128Load().get(b).v128Load()).v128Store();
      next.get(a).i32(16).i32Add().set(a);
      next.get(b).i32(16).i32Add().set(b);
      next.get(out).i32(16).i32Add().set(out);
      next.get(vectors).i32(1).i32Sub().tee(vectors).brIf(0);
    }),
  );
  return { name: binaryVectorsName(operation), params: [I32, I32, I32, I32], locals: [], body };
}

/** One for each operation. */
export function binaryVectorsFunctions(): WasmFunction[] {
  return (Object.keys(BROADCAST_OPERATIONS) as BroadcastOperation[]).map(binaryVectorsFunction);
}
