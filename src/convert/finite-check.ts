import { Code, I32, V128, wasmModule, type WasmFunction } from '../backends/wasm-simd/wasm-binary.js';

/** The most bytes checked at once: a staging area that stays in cache between its copy (or read) and the check. */
export const CHECK_PIECE_BYTES = 256 * 1024;

/** Bytes the SIMD loop takes per iteration: four vectors, one per running sum. */
const BLOCK_BYTES = 64;

/** Where the four lanes of the sum land in the checker's memory, past the staging area. */
const SUM_AT = CHECK_PIECE_BYTES;

/**
 * `sumOfSelfDifferences(at, blocks, result)`: the sum over `blocks` of 64 bytes from `at` of x - x,
 * lane by lane, stored at `result`. x - x is 0 for a finite float32 and NaN for NaN and ±Inf,
 * and NaN stays in a sum: the four lanes are all finite exactly when every value is. Four running
 * sums, so that each addition does not wait on the one before.
 */
function sumOfSelfDifferencesFunction(): WasmFunction {
  const [at, blocks, result] = [0, 1, 2];
  const sums = [3, 4, 5, 6] as const;
  const body = new Code()
    .v128Zero().tee(sums[0]).tee(sums[1]).tee(sums[2]).set(sums[3])
    .block((exit) =>
      exit.get(blocks).i32Eqz().brIf(0).loop((next) => {
        sums.forEach((sum, i) => next.get(sum).get(at).v128Load(16 * i).get(at).v128Load(16 * i).f32x4Sub().f32x4Add().set(sum));
        return next
          .get(at).i32(BLOCK_BYTES).i32Add().set(at)
          .get(blocks).i32(1).i32Sub().tee(blocks).brIf(0);
      }),
    )
    .get(result).get(sums[0]).get(sums[1]).f32x4Add().get(sums[2]).get(sums[3]).f32x4Add().f32x4Add().v128Store();
  return { name: 'sumOfSelfDifferences', params: [I32, I32, I32], locals: [V128, V128, V128, V128], body };
}

/**
 * NaN and ±Inf among float32 values, found four lanes at a time in WebAssembly SIMD: the values
 * are put (read, or copied) in a staging area of the checker's own memory and checked there while
 * in cache. Its compiled loop runs at full speed from the first call, where a JavaScript loop
 * starts in V8's interpreter: a converter checks a few hundred weights once each (ResNet50's
 * 98 MB from a bundle: 41 ms in JavaScript, its first calls unoptimized).
 */
export class SimdFiniteChecker {
  /** Where values are put to be checked (checkStaged). */
  readonly staging: Uint8Array;
  private readonly sum: Float32Array;
  private readonly sumOfSelfDifferences: (at: number, blocks: number, result: number) => void;

  constructor() {
    const memory = new WebAssembly.Memory({ initial: Math.ceil((CHECK_PIECE_BYTES + 16) / 65536) });
    const module = new WebAssembly.Module(wasmModule({ shared: false }, [sumOfSelfDifferencesFunction()]));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.sumOfSelfDifferences = instance.exports.sumOfSelfDifferences as (at: number, blocks: number, result: number) => void;
    this.staging = new Uint8Array(memory.buffer, 0, CHECK_PIECE_BYTES);
    this.sum = new Float32Array(memory.buffer, SUM_AT, 4);
  }

  /** Whether every whole float32 in staging[0, length) is finite (a last partial value is not one). */
  checkStaged(length: number): boolean {
    const blocks = Math.floor(length / BLOCK_BYTES);
    this.sumOfSelfDifferences(0, blocks, SUM_AT);
    const [a, b, c, d] = this.sum;
    if (!Number.isFinite(a! + b! + c! + d!)) return false;
    const words = blocks * (BLOCK_BYTES / 4);
    const restWords = length >>> 2;
    return restWords <= words || float32BitsAllFinite(new Int32Array(this.staging.buffer, 0, restWords), words, restWords);
  }

  /** Whether every float32 of `bytes` (whole values; any alignment) is finite: copied through staging a piece at a time. */
  allFinite(bytes: Uint8Array): boolean {
    const length = bytes.length - (bytes.length % 4);
    for (let at = 0; at < length; at += CHECK_PIECE_BYTES) {
      const end = Math.min(length, at + CHECK_PIECE_BYTES);
      this.staging.set(bytes.subarray(at, end));
      if (!this.checkStaged(end - at)) return false;
    }
    return true;
  }
}

/**
 * Whether the float32 values whose bits are `words[from..to)` are all finite. NaN and ±Inf are the
 * values whose 8 exponent bits are all ones; adding one to the exponent field carries into the
 * sign bit for those alone, so one OR over every value says whether any is there. Integer ORs in
 * four independent lanes: no chain of float additions to wait on (0.84 ns a value against 0.97
 * for a float sum, measured; the point is that it is cheap enough to run where the bytes are
 * still in cache, as the HDF5 reader copies them).
 */
export function float32BitsAllFinite(words: Int32Array, from = 0, to = words.length): boolean {
  const EXPONENT = 0x7f800000;
  const ONE = 0x00800000;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let i = from;
  for (; i + 3 < to; i += 4) {
    a |= (words[i]! & EXPONENT) + ONE;
    b |= (words[i + 1]! & EXPONENT) + ONE;
    c |= (words[i + 2]! & EXPONENT) + ONE;
    d |= (words[i + 3]! & EXPONENT) + ONE;
  }
  for (; i < to; i++) a |= (words[i]! & EXPONENT) + ONE;
  return (a | b | c | d) >= 0;
}

/** Values from this many bytes are checked in SIMD (SimdFiniteChecker); fewer, in JavaScript. */
export const SIMD_CHECK_MIN_BYTES = 64 * 1024;

let simdChecker: SimdFiniteChecker | undefined;

/** Whether every value is finite (neither NaN nor ±Inf). */
export function float32AllFinite(values: Float32Array): boolean {
  if (values.byteLength < SIMD_CHECK_MIN_BYTES) return float32BitsAllFinite(new Int32Array(values.buffer, values.byteOffset, values.length));
  simdChecker ??= new SimdFiniteChecker();
  return simdChecker.allFinite(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}
