import { FieldReader, UNDEFINED_ADDRESS } from './lite-source.js';
import { unsupported } from './lite-unsupported.js';

/** Dimensions a dataspace may have (HDF5's own limit is 32). */
const MAX_RANK = 32;

/** A simple or scalar dataspace's dimensions ([] for a scalar); a null dataspace is LiteUnsupported. */
export function readDataspace(data: Uint8Array, what: string): number[] {
  const fields = new FieldReader(data, `${what}: dataspace`);
  const version = fields.u8();
  const rank = fields.u8();
  const flags = fields.u8();
  if (version === 1) {
    fields.skip(5);
  } else if (version === 2) {
    const type = fields.u8();
    if (type === 2) unsupported(`${what}: a null dataspace`);
  } else {
    unsupported(`${what}: dataspace version ${version}`);
  }
  if (rank > MAX_RANK) unsupported(`${what}: rank ${rank}`);
  if (flags & 0x02) unsupported(`${what}: a permuted dataspace`);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(fields.u64());
  return shape;
}

/**
 * A datatype as h5wasm's metadata describes it (the fields hdf5-file.ts reads): `type` is HDF5's
 * class (0 integer, 1 float, 3 string, 8 enum, 9 variable-length, …), `size` its bytes.
 */
export interface LiteDatatype {
  type: number;
  size: number;
  signed: boolean;
  littleEndian: boolean;
  /** A variable-length string (class 9, string kind). */
  vlen: boolean;
  /** Character set of a string: 0 ASCII, 1 UTF-8; -1 for other classes. */
  cset: number;
  /** A fixed-length string's padding: 0 null-terminated, 1 null-padded, 2 space-padded. */
  strpad: number;
}

const INTEGER = 0;
const FLOAT = 1;
const STRING = 3;
const ENUM = 8;
const VARIABLE_LENGTH = 9;

/** The datatypes the reader reads: little-endian IEEE floats, integers, enums (h5py's bool), strings. */
export function readDatatype(data: Uint8Array, what: string): LiteDatatype {
  const fields = new FieldReader(data, `${what}: datatype`);
  const classAndVersion = fields.u8();
  const type = classAndVersion & 0x0f;
  const bits = fields.u8() | (fields.u8() << 8) | (fields.u8() << 16);
  const size = fields.u32();
  const base = { type, size, signed: false, littleEndian: true, vlen: false, cset: -1, strpad: 0 };
  switch (type) {
    case INTEGER:
      return { ...base, littleEndian: (bits & 0x01) === 0, signed: (bits & 0x08) !== 0 };
    case FLOAT: {
      // Byte order in bits 0 and 6 (1 and 1 is VAX order); the layout must be IEEE's.
      const littleEndian = (bits & 0x41) === 0;
      const ieee = { 4: [32, 23, 8, 0, 23, 127], 8: [64, 52, 11, 0, 52, 1023] }[size];
      fields.u16(); // bit offset
      const layout = [fields.u16(), fields.u8(), fields.u8(), fields.u8(), fields.u8(), fields.u32()];
      if (!ieee || layout.some((v, i) => v !== ieee[i])) unsupported(`${what}: a ${size}-byte float that is not IEEE 754`);
      return { ...base, littleEndian };
    }
    case STRING:
      return { ...base, strpad: bits & 0x0f, cset: (bits >> 4) & 0x0f };
    case ENUM: {
      // The base type follows (h5py's bool: a signed byte), with the members' names and values after it.
      const underlying = readDatatype(fields.take(fields.remaining), `${what}: enum base`);
      return { ...base, signed: underlying.signed, littleEndian: underlying.littleEndian };
    }
    case VARIABLE_LENGTH:
      if ((bits & 0x0f) !== 1) unsupported(`${what}: a variable-length sequence`);
      return { ...base, vlen: true, cset: (bits >> 8) & 0x0f, strpad: (bits >> 4) & 0x0f };
    default:
      unsupported(`${what}: datatype class ${type}`);
  }
}

/** Where a dataset's values are: a range of the file, or bytes in its header. */
export type LiteStorage = { kind: 'contiguous'; address: number; length: number } | { kind: 'compact'; bytes: Uint8Array };

/** A version 3 or 4 layout message, contiguous or compact; chunked and virtual datasets are LiteUnsupported. */
export function readLayout(data: Uint8Array, what: string): LiteStorage {
  const fields = new FieldReader(data, `${what}: layout`);
  const version = fields.u8();
  if (version !== 3 && version !== 4) unsupported(`${what}: layout version ${version}`);
  const layoutClass = fields.u8();
  if (layoutClass === 0) return { kind: 'compact', bytes: fields.take(fields.u16()) };
  if (layoutClass === 1) {
    const address = fields.u64();
    const length = fields.u64();
    if (address === UNDEFINED_ADDRESS && length !== 0) unsupported(`${what}: storage not allocated`);
    return { kind: 'contiguous', address, length };
  }
  unsupported(`${what}: layout class ${layoutClass}`);
}

/** A group's symbol table: its B-tree and its local heap of names. */
export function readSymbolTableMessage(data: Uint8Array, what: string): { btreeAddress: number; heapAddress: number } {
  const fields = new FieldReader(data, `${what}: symbol table`);
  return { btreeAddress: fields.u64(), heapAddress: fields.u64() };
}

/** An attribute message: its name, datatype and dataspace, and its raw value bytes. */
export interface LiteAttributeMessage {
  name: string;
  datatype: LiteDatatype;
  shape: number[];
  raw: Uint8Array;
}

export function readAttributeMessage(data: Uint8Array, what: string): LiteAttributeMessage {
  const fields = new FieldReader(data, `${what}: attribute`);
  const version = fields.u8();
  if (version < 1 || version > 3) unsupported(`${what}: attribute version ${version}`);
  const flags = fields.u8();
  if (flags & 0x03) unsupported(`${what}: an attribute with a shared datatype or dataspace`);
  const nameSize = fields.u16();
  const datatypeSize = fields.u16();
  const dataspaceSize = fields.u16();
  if (version === 3) fields.u8(); // the name's encoding
  const padded = (n: number) => (version === 1 ? Math.ceil(n / 8) * 8 : n);
  const nameBytes = fields.take(padded(nameSize));
  const name = new TextDecoder().decode(nameBytes.subarray(0, Math.max(0, nameSize - 1)));
  const datatype = readDatatype(fields.take(padded(datatypeSize)).subarray(0, datatypeSize), `${what}: attribute '${name}'`);
  const shape = readDataspace(fields.take(padded(dataspaceSize)).subarray(0, dataspaceSize), `${what}: attribute '${name}'`);
  const elements = shape.reduce((n, d) => n * d, 1);
  const raw = fields.take(elements * datatype.size);
  return { name, datatype, shape, raw };
}
