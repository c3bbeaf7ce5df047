import { readSync } from 'node:fs';
import { float32BitsAllFinite } from '../../convert/weight-values.js';
import { Code, I32, V128, wasmModule, type WasmFunction } from '../../backends/wasm-simd/wasm-binary.js';

/** The most bytes one checked read takes: a staging area that stays in cache between the read, the check and the copy (also the pieces hdf5-file.ts copies out of HDF5's memory). */
export const CHECKED_READ_BYTES = 256 * 1024;

/** Bytes the SIMD loop takes per iteration: four vectors, one per running sum. */
const BLOCK_BYTES = 64;

/** Where the four lanes of the sum land in the checker's memory, past the staging area. */
const SUM_AT = CHECKED_READ_BYTES;

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
 * Reads of float32 bytes from a host file, checked for NaN and ±Inf on their way to the caller's
 * buffer or file: each piece is read into a staging area in a small WebAssembly memory, checked
 * there four lanes at a time, and copied out by the caller while still in cache. A plain JavaScript check of
 * the caller's buffer took 22 ms of ResNet50's 98 MB; staged and checked in SIMD the check and the
 * copy take 6 (the HDF5 reader's thread, whose reads the converter waits on).
 */
export class FiniteCheckedReads {
  private readonly staging: Uint8Array;
  private readonly sum: Float32Array;
  private readonly sumOfSelfDifferences: (at: number, blocks: number, result: number) => void;

  constructor() {
    const memory = new WebAssembly.Memory({ initial: Math.ceil((CHECKED_READ_BYTES + 16) / 65536) });
    const module = new WebAssembly.Module(wasmModule({ shared: false }, [sumOfSelfDifferencesFunction()]));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.sumOfSelfDifferences = instance.exports.sumOfSelfDifferences as (at: number, blocks: number, result: number) => void;
    this.staging = new Uint8Array(memory.buffer, 0, CHECKED_READ_BYTES);
    this.sum = new Float32Array(memory.buffer, SUM_AT, 4);
  }

  /**
   * Up to `length` bytes (at most CHECKED_READ_BYTES) of `fd` at `position`: the piece read (fewer
   * bytes only where the file ends; a view of the staging area, valid until the next read) and,
   * where `float32`, whether every whole float32 in it is finite. Copy the piece out while it is
   * in cache.
   */
  read(fd: number, length: number, position: number, float32 = true): { piece: Uint8Array; allFinite: boolean } {
    if (length > CHECKED_READ_BYTES) throw new RangeError(`a checked read of ${length} bytes, over ${CHECKED_READ_BYTES}`);
    let read = 0;
    while (read < length) {
      const got = readSync(fd, this.staging, read, length - read, position + read);
      if (got === 0) break;
      read += got;
    }
    const piece = this.staging.subarray(0, read);
    if (!float32) return { piece, allFinite: false };
    const blocks = Math.floor(read / BLOCK_BYTES);
    this.sumOfSelfDifferences(0, blocks, SUM_AT);
    const [a, b, c, d] = this.sum;
    let allFinite = Number.isFinite(a! + b! + c! + d!);
    const words = blocks * (BLOCK_BYTES / 4);
    const restWords = read >>> 2;
    if (allFinite && restWords > words) allFinite = float32BitsAllFinite(new Int32Array(this.staging.buffer, 0, restWords), words, restWords);
    return { piece, allFinite };
  }
}
