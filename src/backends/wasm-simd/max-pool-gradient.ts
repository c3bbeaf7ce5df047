import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/**
 * `maxPoolGradientRow(x, y, dy, dx, windows, windowBytes, rowBytes, pixelBytes, filterHeight,
 * filterWidth, channelVectors)`: max pooling's input gradient for `windows` windows side by side,
 * wholly inside the input (NHWC float32). The first window's top-left pixel is at byte `x` of the
 * input and `dx` of the gradient, the next `windowBytes` further on; its pooled output at byte `y`,
 * its output gradient at byte `dy`, the next `pixelBytes` further on. Per window and channel, the
 * output gradient goes to the first tap (row-major) whose input equals the pooled maximum, as
 * TensorFlow's kernel sends it: a mask of the channels claimed so far rides along the taps, and dx
 * takes dx + dy where a tap claims a channel, and keeps its bits elsewhere. The windows run in order,
 * so that where they overlap the sums are made in the order a plain loop makes them.
 */
export function maxPoolGradientRowFunction(): WasmFunction {
  const [x, y, dy, dx, windows, windowBytes, rowBytes, pixelBytes, filterHeight, filterWidth, channelVectors] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [vector, tapRow, tapAt, rowsLeft, columnsLeft, offset] = [11, 12, 13, 14, 15, 16];
  const [claimed, pooled, gradient, hit] = [17, 18, 19, 20];
  const body = new Code().loop((window) => {
    window.i32(0).set(vector);
    window.loop((channels) => {
      channels.v128Zero().set(claimed);
      channels.get(y).get(vector).i32Add().v128Load().set(pooled);
      channels.get(dy).get(vector).i32Add().v128Load().set(gradient);
      // Taps row by row: offset is the tap's byte offset from the window's corner, plus the vector's.
      channels.get(vector).set(tapRow).get(filterHeight).set(rowsLeft);
      channels.loop((row) => {
        row.get(tapRow).set(tapAt).get(filterWidth).set(columnsLeft);
        row.loop((tap) => {
          tap.get(tapAt).set(offset);
          tap.get(x).get(offset).i32Add().v128Load().get(pooled).f32x4Eq().get(claimed).v128AndNot().set(hit);
          tap.get(dx).get(offset).i32Add()
            .get(dx).get(offset).i32Add().v128Load().get(gradient).f32x4Add()
            .get(dx).get(offset).i32Add().v128Load()
            .get(hit).v128Bitselect()
            .v128Store();
          tap.get(claimed).get(hit).v128Or().set(claimed);
          tap.get(tapAt).get(pixelBytes).i32Add().set(tapAt);
          tap.get(columnsLeft).i32(1).i32Sub().tee(columnsLeft).brIf(0);
        });
        row.get(tapRow).get(rowBytes).i32Add().set(tapRow);
        row.get(rowsLeft).i32(1).i32Sub().tee(rowsLeft).brIf(0);
      });
      channels.get(vector).i32(16).i32Add().tee(vector).get(channelVectors).i32(16).i32Mul().i32LtU().brIf(0);
    });
    window.get(x).get(windowBytes).i32Add().set(x);
    window.get(dx).get(windowBytes).i32Add().set(dx);
    window.get(y).get(pixelBytes).i32Add().set(y);
    window.get(dy).get(pixelBytes).i32Add().set(dy);
    window.get(windows).i32(1).i32Sub().tee(windows).brIf(0);
  });
  return { name: 'maxPoolGradientRow', params: Array.from({ length: 11 }, (): ValueType => I32), locals: [I32, I32, I32, I32, I32, I32, V128, V128, V128, V128], body };
}

export type MaxPoolGradientRow = (x: number, y: number, dy: number, dx: number, windows: number, windowBytes: number, rowBytes: number, pixelBytes: number, filterHeight: number, filterWidth: number, channelVectors: number) => void;
