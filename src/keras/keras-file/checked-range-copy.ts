import { readSync } from 'node:fs';
import { CHECKED_READ_BYTES, FiniteCheckedReads } from './finite-checked-reads.js';

/** The staging area of checked copies on this thread, made on the first that needs it. */
let checkedReads: FiniteCheckedReads | undefined;

/**
 * Bytes [position, position + length) of the open file `fd` handed to `put` a piece at a time
 * (each piece valid only during the call: copy or write it), float32 ones checked for NaN and
 * ±Inf on the way while in cache (FiniteCheckedReads); other bytes read straight into `out` when
 * given. Returns, for float32, whether every value is finite (true otherwise). A file that ends
 * early throws `short()`.
 */
export function copyCheckedRange(
  fd: number,
  position: number,
  length: number,
  sink: { out?: Uint8Array; put(piece: Uint8Array, at: number): void },
  float32: boolean,
  short: () => Error,
): boolean {
  let done = 0;
  if (!float32 && sink.out) {
    while (done < length) {
      const got = readSync(fd, sink.out, done, length - done, position + done);
      if (got === 0) throw short();
      done += got;
    }
    return true;
  }
  checkedReads ??= new FiniteCheckedReads();
  let allFinite = true;
  while (done < length) {
    const wanted = Math.min(length - done, CHECKED_READ_BYTES);
    const read = checkedReads.read(fd, wanted, position + done, float32);
    if (read.piece.length < wanted) throw short();
    allFinite &&= read.allFinite;
    sink.put(read.piece, done);
    done += wanted;
  }
  return allFinite;
}
