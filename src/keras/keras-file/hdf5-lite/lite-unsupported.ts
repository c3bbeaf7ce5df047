/**
 * What the TypeScript HDF5 reader (this folder) says of a file outside what it reads: the
 * structure h5py writes by default (superblock 0, groups as symbol tables, contiguous or compact
 * datasets, plain attributes), checked whole. Never shown to a user: the caller opens the file
 * with h5wasm instead, which reads everything HDF5 does and reports what is wrong in its own words
 * (hdf5-file.ts). Damage, limits and anything unusual land here too, for the same reason.
 */
export class LiteUnsupported extends Error {
  constructor(reason: string) {
    super(`outside the TypeScript HDF5 reader: ${reason}`);
    this.name = 'LiteUnsupported';
  }
}

export function unsupported(reason: string): never {
  throw new LiteUnsupported(reason);
}

/** UTF-8 text, or LiteUnsupported where the bytes are not. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    unsupported(`${what} that is not UTF-8`);
  }
}
