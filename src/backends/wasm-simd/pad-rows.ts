import { Code, I32, type WasmFunction } from './wasm-binary.js';

/**
 * `padRows(from, to, rows, runBytes, beforeBytes, afterBytes)`: `rows` rows of a padded tensor,
 * each `beforeBytes` of zeros, then `runBytes` copied from the input, then `afterBytes` of zeros;
 * the input's runs one after the other from `from`, the output's rows from `to`. Bulk memory's
 * copy and fill (V8's memmove and memset). rows is at least 1.
 */
export function padRowsFunction(): WasmFunction {
  const [from, to, rows, run, before, after] = [0, 1, 2, 3, 4, 5];
  const body = new Code().loop((next) =>
    next
      .get(to).i32(0).get(before).memoryFill()
      .get(to).get(before).i32Add().tee(to)
      .get(from).get(run).memoryCopy()
      .get(to).get(run).i32Add().tee(to)
      .i32(0).get(after).memoryFill()
      .get(to).get(after).i32Add().set(to)
      .get(from).get(run).i32Add().set(from)
      .get(rows).i32(1).i32Sub().tee(rows)
      .brIf(0),
  );
  return { name: 'padRows', params: [I32, I32, I32, I32, I32, I32], locals: [], body };
}

/** `zeroBytes(to, bytes)`: `bytes` zero bytes from `to` (memory.fill). */
export function zeroBytesFunction(): WasmFunction {
  return { name: 'zeroBytes', params: [I32, I32], locals: [], body: new Code().get(0).i32(0).get(1).memoryFill() };
}
