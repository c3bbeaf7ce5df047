import { readSync } from 'node:fs';
import { CHECKED_READ_BYTES, FiniteCheckedReads } from './finite-checked-reads.js';

/** The staging area of checked copies on this thread, made on the first that needs it. */
let checkedReads: FiniteCheckedReads | undefined;

/** What a checked copy did: the bytes it handed on, and whether every float32 value was finite. */
export interface CheckedCopy {
  copied: number;
  allFinite: boolean;
}

/**
 * Bytes [position, position + length) of the open file `fd` handed to `put` a piece at a time
 * (each piece valid only during the call: copy or write it), float32 ones checked for NaN and
 * ±Inf on the way while in cache (FiniteCheckedReads); other bytes read straight into `out` when
 * given. Stops where the file ends: `copied` is then less than `length` (HDF5's landed reads
 * report that count, and HDF5 the short read).
 */
export function copyCheckedRangeUpTo(
  fd: number,
  position: number,
  length: number,
  sink: { out?: Uint8Array; put(piece: Uint8Array, at: number): void },
  float32: boolean,
): CheckedCopy {
  let done = 0;
  if (!float32 && sink.out) {
    while (done < length) {
      const got = readSync(fd, sink.out, done, length - done, position + done);
      if (got === 0) break;
      done += got;
    }
    return { copied: done, allFinite: true };
  }
  checkedReads ??= new FiniteCheckedReads();
  let allFinite = true;
  while (done < length) {
    const wanted = Math.min(length - done, CHECKED_READ_BYTES);
    const read = checkedReads.read(fd, wanted, position + done, float32);
    allFinite &&= read.allFinite;
    sink.put(read.piece, done);
    done += read.piece.length;
    if (read.piece.length < wanted) break;
  }
  return { copied: done, allFinite };
}

/**
 * copyCheckedRangeUpTo for a range that must be whole: a file that ends early throws `short()`.
 * Returns, for float32, whether every value is finite (true otherwise).
 */
export function copyCheckedRange(
  fd: number,
  position: number,
  length: number,
  sink: { out?: Uint8Array; put(piece: Uint8Array, at: number): void },
  float32: boolean,
  short: () => Error,
): boolean {
  const { copied, allFinite } = copyCheckedRangeUpTo(fd, position, length, sink, float32);
  if (copied < length) throw short();
  return allFinite;
}
