import { Code, I32, type WasmFunction } from './wasm-binary.js';

/**
 * `segmentRowsAdd(x, ids, out, rows, vectors, segments, rowBytes)`: for each of `rows` rows of x
 * (`vectors` of 4 float32 each, rowBytes = 16·vectors apart) in order, adds it to the row of out
 * its int32 id at `ids` names: UnsortedSegmentSum as a scatter, each segment's sum in the rows'
 * order, rounded once per addition. An id outside [0, segments) (negative ones included: compared
 * unsigned) adds nothing, as TensorFlow drops it.
 */
export function segmentRowsAddFunction(): WasmFunction {
  const [x, ids, out, rows, vectors, segments, rowBytes] = [0, 1, 2, 3, 4, 5, 6];
  const [segment, from, to, left] = [7, 8, 9, 10];
  const body = new Code().block((exit) =>
    exit.get(rows).i32Eqz().brIf(0).loop((row) => {
      row.block((skip) => {
        skip.get(ids).i32Load().set(segment);
        skip.get(segment).get(segments).i32LtU().i32Eqz().brIf(0);
        skip.get(out).get(segment).get(rowBytes).i32Mul().i32Add().set(to);
        skip.get(x).set(from).get(vectors).set(left);
        skip.loop((vector) => {
          vector.get(to).get(to).v128Load().get(from).v128Load().f32x4Add().v128Store();
          vector.get(to).i32(16).i32Add().set(to);
          vector.get(from).i32(16).i32Add().set(from);
          vector.get(left).i32(1).i32Sub().tee(left).brIf(0);
        });
      });
      row.get(x).get(rowBytes).i32Add().set(x);
      row.get(ids).i32(4).i32Add().set(ids);
      row.get(rows).i32(1).i32Sub().tee(rows).brIf(0);
    }),
  );
  return { name: 'segmentRowsAdd', params: [I32, I32, I32, I32, I32, I32, I32], locals: [I32, I32, I32, I32], body };
}

export type SegmentRowsAdd = (x: number, ids: number, out: number, rows: number, vectors: number, segments: number, rowBytes: number) => void;
