import { Code, I32, type WasmFunction } from './wasm-binary.js';

/**
 * Bytes [0, n) from `src` to `dst` (or zeros, without `src`): 16 at a time as v128 loads and
 * stores, the last n mod 16 by bulk memory's copy or fill. Not memory.copy throughout: on a shared
 * memory (the threaded build's) V8 copies by relaxed atomic words, slower than SIMD: a [32, 112,
 * 112, 64] pad took 10 ms that way, tfjs's kernel 7.7-10.9. `i` and `end` are scratch locals.
 */
function moveBytes(code: Code, dst: number, src: number | undefined, n: number, i: number, end: number): Code {
  code
    .i32(0).set(i)
    .get(n).i32(-16).i32And().set(end)
    .block((whole) => {
      whole.get(end).i32Eqz().brIf(0).loop((next) => {
        next.get(dst).get(i).i32Add();
        if (src === undefined) next.v128Zero();
        else next.get(src).get(i).i32Add().v128Load();
        next.v128Store().get(i).i32(16).i32Add().tee(i).get(end).i32LtU().brIf(0);
      });
    })
    .get(dst).get(i).i32Add();
  if (src === undefined) return code.i32(0).get(n).get(i).i32Sub().memoryFill();
  return code.get(src).get(i).i32Add().get(n).get(i).i32Sub().memoryCopy();
}

/**
 * `padRows(from, to, rows, runBytes, beforeBytes, afterBytes)`: `rows` rows of a padded tensor,
 * each `beforeBytes` of zeros, then `runBytes` copied from the input, then `afterBytes` of zeros;
 * the input's runs one after the other from `from`, the output's rows from `to`. rows is at least 1.
 */
export function padRowsFunction(): WasmFunction {
  const [from, to, rows, run, before, after] = [0, 1, 2, 3, 4, 5];
  const [i, end] = [6, 7];
  const body = new Code().loop((next) => {
    moveBytes(next, to, undefined, before, i, end).get(to).get(before).i32Add().set(to);
    moveBytes(next, to, from, run, i, end).get(to).get(run).i32Add().set(to).get(from).get(run).i32Add().set(from);
    moveBytes(next, to, undefined, after, i, end).get(to).get(after).i32Add().set(to);
    next.get(rows).i32(1).i32Sub().tee(rows).brIf(0);
  });
  return { name: 'padRows', params: [I32, I32, I32, I32, I32, I32], locals: [I32, I32], body };
}

/** `zeroBytes(to, bytes)`: `bytes` zero bytes from `to`. */
export function zeroBytesFunction(): WasmFunction {
  const [to, bytes, i, end] = [0, 1, 2, 3];
  return { name: 'zeroBytes', params: [I32, I32], locals: [I32, I32], body: moveBytes(new Code(), to, undefined, bytes, i, end) };
}
