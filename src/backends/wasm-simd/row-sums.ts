import type { Code } from './wasm-binary.js';

/**
 * Emits: adds a 4x4 block (`rows`: four v128 locals, one row's 4 columns each) to `sum` column by
 * column, so that lane r of `sum` gains row r's four values in column order: the block is turned
 * (columns into lanes) with shuffles into `turned` (four v128 locals), then its columns are added
 * one after another. Four rows' sums in one vector, each in the order a scalar loop along the row
 * adds (tfjs-backend-wasm's Sum and Mean along the innermost axis), four at a time.
 */
export function addBlockColumns(code: Code, rows: readonly number[], turned: readonly number[], sum: number): Code {
  const [r0, r1, r2, r3] = rows as [number, number, number, number];
  const [t0, t1, t2, t3] = turned as [number, number, number, number];
  code.get(r0).get(r1).shuffle32([0, 4, 1, 5]).set(t0);
  code.get(r2).get(r3).shuffle32([0, 4, 1, 5]).set(t1);
  code.get(r0).get(r1).shuffle32([2, 6, 3, 7]).set(t2);
  code.get(r2).get(r3).shuffle32([2, 6, 3, 7]).set(t3);
  for (const [first, second, lanes] of [[t0, t1, [0, 1, 4, 5]], [t0, t1, [2, 3, 6, 7]], [t2, t3, [0, 1, 4, 5]], [t2, t3, [2, 3, 6, 7]]] as const) {
    code.get(sum).get(first).get(second).shuffle32(lanes).f32x4Add().set(sum);
  }
  return code;
}

/** Emits lane `lane` of the v128 local `v` in all four lanes onto the stack. */
export function splatLane(code: Code, v: number, lane: number): Code {
  return code.get(v).get(v).shuffle32([lane, lane, lane, lane]);
}
