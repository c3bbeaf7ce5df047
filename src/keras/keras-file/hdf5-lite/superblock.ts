import { FieldReader, UNDEFINED_ADDRESS, type LiteSource } from './lite-source.js';
import { unsupported } from './lite-unsupported.js';

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** What the reader needs of a version 0 or 1 superblock (h5py's default): where the root group's header is. */
export interface Superblock {
  rootHeaderAddress: number;
  /** The superblock's end of file: HDF5 reads nothing past it. */
  endOfFile: number;
  /** Group B-tree nodes hold at most 2K children, symbol nodes at most 2K entries (HDF5 refuses a K of 0). */
  groupInternalK: number;
  groupLeafK: number;
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
  // Free-space, root symbol table entry, reserved and shared header message versions: 0 in every
  // file HDF5 opens, as are the reserved bytes.
  if (fields.u8() !== 0 || fields.u8() !== 0 || fields.u8() !== 0 || fields.u8() !== 0) unsupported('superblock field versions');
  if (fields.u8() !== 8 || fields.u8() !== 8) unsupported('offsets or lengths other than 8 bytes');
  fields.skip(1);
  const groupLeafK = fields.u16();
  const groupInternalK = fields.u16();
  if (groupLeafK === 0 || groupInternalK === 0) unsupported('a group node K of 0');
  // Consistency flags: 0 in a file closed after writing (HDF5 refuses some others, this reader all).
  if (fields.u32() !== 0) unsupported('superblock status flags');
  if (version === 1 && fields.u16() === 0) unsupported('an indexed storage K of 0');
  if (version === 1) fields.skip(2);
  const baseAddress = fields.u64();
  fields.u64(); // free-space info
  const endOfFile = fields.u64();
  fields.u64(); // driver information block
  if (baseAddress !== 0) unsupported(`base address ${baseAddress}`);
  if (endOfFile === UNDEFINED_ADDRESS || endOfFile > source.length) unsupported(`end of file at ${endOfFile}, past the ${source.length} bytes there are`);
  fields.u64(); // the root entry's link name offset
  const rootHeaderAddress = fields.u64();
  return { rootHeaderAddress, endOfFile, groupInternalK, groupLeafK };
}
