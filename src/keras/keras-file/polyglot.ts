import { InputError } from '../../errors.js';
import type { ByteSource } from './zip/byte-source.js';
import { findEndRecord } from './zip/end-record.js';

export const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // "\x89HDF\r\n\x1a\n"
/** The most a zip end record can sit before the end of the file: 22 bytes and a 65535-byte comment. */
export const ZIP_TAIL_BYTES = 22 + 0xffff;

/** Where the HDF5 library looks for a superblock: byte 0, then 512 and each power of two up to the file's size. */
export function hdf5SignatureOffsets(size: number): number[] {
  const offsets = [0];
  for (let at = 512; at + HDF5_MAGIC.length <= size; at *= 2) offsets.push(at);
  return offsets;
}

export function hasHdf5Signature(bytes: Uint8Array, offset: number): boolean {
  return bytes.length >= offset + HDF5_MAGIC.length && HDF5_MAGIC.every((b, i) => bytes[offset + i] === b);
}

/**
 * A file that is both HDF5 and zip reads as one model here (we pick by the first bytes) and as
 * another in Keras (which picks by extension, then zipfile.is_zipfile): refused. For an HDF5
 * file: `tail` is its last ZIP_TAIL_BYTES, where Python's is_zipfile looks for a zip end record.
 */
export function refuseZipInHdf5(file: string, hdf5At: number, tail: Uint8Array, tailStart: number): void {
  const end = findEndRecord(tail);
  if (end !== undefined) throw polyglot(file, hdf5At, tailStart + end);
}

/**
 * For a zip: an HDF5 superblock where the HDF5 library would find one. The one exception is the
 * stored model.weights.h5 itself (Keras writes it uncompressed, so its signature can land on a
 * power of two): read as HDF5, that is a weights-only file, no model.
 */
export function refuseHdf5InZip(file: string, source: ByteSource, zipEndAt: number, weightsStoredAt: number | undefined): void {
  const at = hdf5SignatureOffsets(source.size).find((offset) => offset !== weightsStoredAt && hasHdf5Signature(source.read(offset, HDF5_MAGIC.length), 0));
  if (at !== undefined) throw polyglot(file, at, zipEndAt);
}

function polyglot(file: string, hdf5At: number, zipEndAt: number): InputError {
  return new InputError(
    `${file}: both an HDF5 file and a zip archive (HDF5 signature at byte ${hdf5At}, zip end record at byte ${zipEndAt}): ` +
      `Keras and keras-bridge could read different models from it, so it is refused. ` +
      `Save the model again with model.save('model.keras'), or model.save('model.h5') for the legacy format.`,
  );
}
