import { Code } from './wasm-binary.js';

/** The locals a loop over rows of float32 vectors counts and moves (WebAssembly local indices). */
export interface RowLoop {
  /** Rows left: counted down to 0 (none: nothing runs). */
  rows: number;
  /** Bytes per row, a multiple of 16. */
  rowBytes: number;
  /** The byte offset within the row, 0 to rowBytes by 16. */
  at: number;
  /** Pointers moved on by rowBytes after each row. */
  advance: number[];
  /** Pointers moved on by a step of their own (local of the step) after each row. */
  step?: Array<[pointer: number, stepLocal: number]>;
}

/**
 * Writes into `code` a loop over `loop.rows` rows of `loop.rowBytes`: for each row `beforeRow`
 * (setting up what the row shares), then `eachVector` for each 16-byte offset `at` of the row, then
 * the pointers move on. The loop keras-bridge's per-row SIMD kernels share (batch normalization,
 * broadcast arithmetic).
 */
export function rowsOfVectors(code: Code, loop: RowLoop, eachVector: (vector: Code) => void, beforeRow?: (row: Code) => void): Code {
  return code.block((exit) =>
    exit
      .get(loop.rows)
      .i32Eqz()
      .brIf(0)
      .loop((row) => {
        row.i32(0).set(loop.at);
        beforeRow?.(row);
        row.loop((vector) => {
          eachVector(vector);
          vector.get(loop.at).i32(16).i32Add().tee(loop.at).get(loop.rowBytes).i32LtU().brIf(0);
        });
        for (const pointer of loop.advance) row.get(pointer).get(loop.rowBytes).i32Add().set(pointer);
        for (const [pointer, step] of loop.step ?? []) row.get(pointer).get(step).i32Add().set(pointer);
        row.get(loop.rows).i32(1).i32Sub().tee(loop.rows).brIf(0);
      }),
  );
}
