import { Code, I32, V128, type WasmFunction } from './wasm-binary.js';

/**
 * `clampVectors(x, out, vectors, low, high)`: out = min(max(x, low), high), `vectors` of 4 float32
 * from byte x to byte out (low and high as float32 bits): relu as [0, ∞], relu6 as [0, 6].
 * WebAssembly's max and min give NaN for NaN, as TensorFlow's Relu does, and max(-0, 0) = 0.
 */
export function clampVectorsFunction(): WasmFunction {
  const [x, out, vectors, low, high] = [0, 1, 2, 3, 4];
  const [lowV, highV] = [5, 6];
  const body = new Code()
    .get(low).i32x4Splat().set(lowV)
    .get(high).i32x4Splat().set(highV)
    .block((exit) =>
      exit
        .get(vectors).i32Eqz().brIf(0)
        .loop((next) =>
          next
            .get(out).get(x).v128Load().get(lowV).f32x4Max().get(highV).f32x4Min().v128Store()
            .get(x).i32(16).i32Add().set(x)
            .get(out).i32(16).i32Add().set(out)
            .get(vectors).i32(1).i32Sub().tee(vectors).brIf(0),
        ),
    );
  return { name: 'clampVectors', params: [I32, I32, I32, I32, I32], locals: [V128, V128], body };
}
