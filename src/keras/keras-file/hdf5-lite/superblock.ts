import { FieldReader, UNDEFINED_ADDRESS, type LiteSource } from './lite-source.js';
import { unsupported } from './lite-unsupported.js';

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** What the reader needs of a version 0 or 1 superblock (h5py's default): where the root group's header is. */
export interface Superblock {
  rootHeaderAddress: number;
}

/**
 * The superblock at the start of the file (a user block before it, versions 2 and 3 written with
 * `libver='latest'`, and offsets or lengths other than 8 bytes are left to h5wasm).
 */
export function readSuperblock(source: LiteSource): Superblock {
  const fields = new FieldReader(source.read(0, Math.min(source.length, 96)), 'superblock');
  const signature = fields.take(8);
  if (SIGNATURE.some((b, i) => signature[i] !== b)) unsupported('no HDF5 signature at byte 0');
  const version = fields.u8();
  if (version !== 0 && version !== 1) unsupported(`superblock version ${version}`);
  fields.skip(4); // free-space, root symbol table entry, reserved, shared header message versions
  if (fields.u8() !== 8 || fields.u8() !== 8) unsupported('offsets or lengths other than 8 bytes');
  fields.skip(1);
  fields.skip(4); // group leaf and internal node K
  fields.skip(4); // consistency flags
  if (version === 1) fields.skip(4); // indexed storage K, reserved
  const baseAddress = fields.u64();
  fields.u64(); // free-space info
  const endOfFile = fields.u64();
  fields.u64(); // driver information block
  if (baseAddress !== 0) unsupported(`base address ${baseAddress}`);
  if (endOfFile === UNDEFINED_ADDRESS || endOfFile > source.length) unsupported(`end of file at ${endOfFile}, past the ${source.length} bytes there are`);
  fields.u64(); // the root entry's link name offset
  const rootHeaderAddress = fields.u64();
  return { rootHeaderAddress };
}
