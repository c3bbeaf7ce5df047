import v8 from 'node:v8';

/**
 * V8 compiles a WebAssembly function with its baseline compiler (Liftoff) when first called, and
 * again with its optimizing one (TurboFan) once the function has run through a budget of code
 * (`--wasm-tiering-budget`, taken by each instance as it is made). HDF5 is large, and a
 * conversion runs it for a fraction of a second: converting ResNet50's .keras file, TurboFan
 * compiled 197 of h5wasm's functions for 277 ms of CPU, on a 2-core machine whose other core was
 * loading tfjs, and finished most of them after the reads they were meant to speed up. The HDF5
 * reader's instance is made with a budget 1000 times V8's default instead: a function still tiers
 * up after running a long while (inflating a large compressed dataset), not after a few hundred
 * path lookups. Measured: 1 of h5wasm's functions compiled by TurboFan, ResNet50's conversion
 * 0.87 → 0.76 s of wall time and 1.41 → 1.22 s of CPU.
 */
export const V8_DEFAULT_WASM_TIERING_BUDGET = 1_800_000;
export const HDF5_READER_WASM_TIERING_BUDGET = 1000 * V8_DEFAULT_WASM_TIERING_BUDGET;

/** True when the process was started with a --wasm-tiering-budget of its own: then it is left as it is. */
export function processSetsWasmTieringBudget(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => /^--wasm[-_]tiering[-_]budget(=|$)/.test(arg));
}

let raised = false;

/**
 * Gives the WebAssembly instances made from now until restoreWasmTieringBudget the HDF5 reader's
 * budget. The flag is the process's: the window is kept to h5wasm's instantiation (its worker's
 * first tens of milliseconds), and an instance of another module made in it only tiers up later.
 */
export function raiseWasmTieringBudget(): void {
  if (raised || processSetsWasmTieringBudget()) return;
  v8.setFlagsFromString(`--wasm-tiering-budget=${HDF5_READER_WASM_TIERING_BUDGET}`);
  raised = true;
}

/** V8's default budget again, for instances made from now on; nothing where raiseWasmTieringBudget changed nothing. */
export function restoreWasmTieringBudget(): void {
  if (!raised) return;
  v8.setFlagsFromString(`--wasm-tiering-budget=${V8_DEFAULT_WASM_TIERING_BUDGET}`);
  raised = false;
}
