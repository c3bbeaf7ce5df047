import { readSync } from 'node:fs';
import { CHECK_PIECE_BYTES, SimdFiniteChecker } from '../../convert/finite-check.js';

/** The most bytes one checked read takes: a staging area that stays in cache between the read, the check and the copy (also the pieces hdf5-file.ts copies out of HDF5's memory). */
export const CHECKED_READ_BYTES = CHECK_PIECE_BYTES;

/**
 * Reads of float32 bytes from a host file, checked for NaN and ±Inf on their way to the caller's
 * buffer or file: each piece is read into a staging area in a small WebAssembly memory, checked
 * there four lanes at a time, and copied out by the caller while still in cache. A plain JavaScript check of
 * the caller's buffer took 22 ms of ResNet50's 98 MB; staged and checked in SIMD the check and the
 * copy take 6 (the HDF5 reader's thread, whose reads the converter waits on).
 */
export class FiniteCheckedReads {
  private readonly checker = new SimdFiniteChecker();

  /**
   * Up to `length` bytes (at most CHECKED_READ_BYTES) of `fd` at `position`: the piece read (fewer
   * bytes only where the file ends; a view of the staging area, valid until the next read) and,
   * where `float32`, whether every whole float32 in it is finite. Copy the piece out while it is
   * in cache.
   */
  read(fd: number, length: number, position: number, float32 = true): { piece: Uint8Array; allFinite: boolean } {
    if (length > CHECKED_READ_BYTES) throw new RangeError(`a checked read of ${length} bytes, over ${CHECKED_READ_BYTES}`);
    const { staging } = this.checker;
    let read = 0;
    while (read < length) {
      const got = readSync(fd, staging, read, length - read, position + read);
      if (got === 0) break;
      read += got;
    }
    const piece = staging.subarray(0, read);
    return { piece, allFinite: float32 && this.checker.checkStaged(read) };
  }
}
