import { addBlockColumns, splatLane } from './row-sums.js';
import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/**
 * The gradient of softmax over the last axis as tfjs-core composes it (Softmax's gradient: p = dy·y,
 * then p − sum(p)·y, the sum over the row), on one row in JavaScript: each product and difference
 * rounded to float32, the sum from 0 in column order, as tfjs-backend-wasm's Sum adds along its
 * innermost axis. The SIMD kernel below gives the same values; `out` may be dy.
 */
export function softmaxGradientRow(dy: ArrayLike<number>, y: ArrayLike<number>, out: { [i: number]: number }, from: number, columns: number): void {
  const f = Math.fround;
  let sum = 0;
  const products = new Float32Array(columns);
  for (let j = 0; j < columns; j++) {
    products[j] = f(dy[from + j]! * y[from + j]!);
    sum = f(sum + products[j]!);
  }
  for (let j = 0; j < columns; j++) out[from + j] = f(products[j]! - f(sum * y[from + j]!));
}

/**
 * `softmaxGradientRows(dy, y, out, groups, columns)`: softmaxGradientRow for `groups` groups of 4
 * rows of `columns` float32 (a multiple of 4) at bytes dy, y and out (out may be dy). A group's
 * four rows sum in the four lanes of one vector: each 4x4 block of products is turned (columns into
 * lanes) and its columns added in order, so every row's sum runs in column order, as tfjs's Sum
 * adds, four at a time. The products are written to out first and read back for the differences.
 */
export function softmaxGradientRowsFunction(): WasmFunction {
  const [dy, y, out, groups, columns] = [0, 1, 2, 3, 4];
  const [left, rowBytes, at, yAt, outAt] = [5, 6, 7, 8, 9];
  const rows = [10, 11, 12, 13];
  const turned = [14, 15, 16, 17];
  const [sum, sums] = [18, 19];
  const body = new Code();
  body.get(columns).i32(2).i32Shl().set(rowBytes);
  body.loop((group) => {
    group.v128Zero().set(sum);
    // The products, four rows by four columns at a time, into out; each block's columns added to the four sums in order.
    group.i32(0).set(at).get(columns).i32(2).i32Shl().set(left);
    group.loop((block) => {
      for (let r = 0; r < 4; r++) {
        const offset = (code: Code, base: number) => code.get(base).get(at).i32Add().get(rowBytes).i32(r).i32Mul().i32Add();
        offset(block, out);
        offset(block, dy).v128Load();
        offset(block, y).v128Load();
        block.f32x4Mul().set(rows[r]!);
        block.get(rows[r]!).v128Store();
      }
      addBlockColumns(block, rows, turned, sum);
      block.get(at).i32(16).i32Add().set(at);
      block.get(left).i32(16).i32Sub().tee(left).brIf(0);
    });
    // out = product − sum·y, row by row, the row's sum splat.
    for (let r = 0; r < 4; r++) {
      splatLane(group, sum, r).set(sums);
      const rowStart = (code: Code, base: number) => code.get(base).get(rowBytes).i32(r).i32Mul().i32Add();
      rowStart(group, y).set(yAt);
      rowStart(group, out).set(outAt);
      group.get(columns).i32(2).i32Shl().set(left);
      group.loop((step) => {
        step.get(outAt).get(outAt).v128Load().get(sums).get(yAt).v128Load().f32x4Mul().f32x4Sub().v128Store();
        step.get(yAt).i32(16).i32Add().set(yAt);
        step.get(outAt).i32(16).i32Add().set(outAt);
        step.get(left).i32(16).i32Sub().tee(left).brIf(0);
      });
    }
    for (const base of [dy, y, out]) group.get(base).get(rowBytes).i32(4).i32Mul().i32Add().set(base);
    group.get(groups).i32(1).i32Sub().tee(groups).brIf(0);
  });
  const locals: ValueType[] = [...Array.from({ length: 5 }, (): ValueType => I32), ...Array.from({ length: 10 }, (): ValueType => V128)];
  return { name: 'softmaxGradientRows', params: [I32, I32, I32, I32, I32], locals, body };
}
