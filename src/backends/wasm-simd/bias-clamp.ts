import { rowsOfVectors } from './row-loops.js';
import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/**
 * `biasClampRows(c, bias, rowBytes, rows, low, high, strideBytes)`: in place, each of `rows` rows
 * of `rowBytes` (a multiple of 16) at byte `c`, `strideBytes` apart (rowBytes for rows one after
 * the other; more for a run of columns of wider rows), plus the row at `bias`, then clamped to
 * [low, high] (float32 bits; ±Infinity for no bound): max then min, as the Winograd output
 * transform clamps (NaN stays NaN). A product's epilogue: TensorFlow's BiasAdd after the MatMul,
 * and the activations a clamp is (linear, relu, relu6), in one pass over rows the product has
 * just written (conv-pointwise.ts).
 */
export function biasClampRowsFunction(): WasmFunction {
  const [c, bias, rowBytes, rows, low, high, stride] = [0, 1, 2, 3, 4, 5, 6];
  const at = 7;
  const [lowV, highV] = [8, 9];
  const body = new Code().get(low).i32x4Splat().set(lowV).get(high).i32x4Splat().set(highV);
  rowsOfVectors(body, { rows, rowBytes, at, advance: [], step: [[c, stride]] }, (vector) =>
    vector.get(c).get(at).i32Add().get(c).get(at).i32Add().v128Load().get(bias).get(at).i32Add().v128Load().f32x4Add().get(lowV).f32x4Max().get(highV).f32x4Min().v128Store(),
  );
  const locals: ValueType[] = [I32, V128, V128];
  return { name: 'biasClampRows', params: [I32, I32, I32, I32, I32, I32, I32], locals, body };
}

export type BiasClampRows = (c: number, bias: number, rowBytes: number, rows: number, low: number, high: number, strideBytes: number) => void;
