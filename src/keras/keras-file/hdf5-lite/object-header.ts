import { FieldReader, UNDEFINED_ADDRESS, type LiteSource } from './lite-source.js';
import { unsupported } from './lite-unsupported.js';

/** Header message types the reader knows (HDF5 file format, section IV.A.2). */
export const MESSAGE = {
  nil: 0x0000,
  dataspace: 0x0001,
  datatype: 0x0003,
  fillValueOld: 0x0004,
  fillValue: 0x0005,
  layout: 0x0008,
  filterPipeline: 0x000b,
  attribute: 0x000c,
  comment: 0x000d,
  modificationTimeOld: 0x000e,
  continuation: 0x0010,
  symbolTable: 0x0011,
  modificationTime: 0x0012,
} as const;

/** Messages that say nothing the reader needs: skipped. Any type not here or above is left to h5wasm. */
const IGNORED = new Set<number>([MESSAGE.nil, MESSAGE.fillValueOld, MESSAGE.fillValue, MESSAGE.comment, MESSAGE.modificationTimeOld, MESSAGE.modificationTime]);

const KNOWN = new Set<number>([MESSAGE.dataspace, MESSAGE.datatype, MESSAGE.layout, MESSAGE.filterPipeline, MESSAGE.attribute, MESSAGE.symbolTable]);

export interface HeaderMessage {
  type: number;
  data: Uint8Array;
}

/** Header blocks (the first and its continuations) one object may have. */
const MAX_BLOCKS = 256;

/**
 * The messages of a version 1 object header, continuations followed (each block once). A
 * version 2 header ("OHDR", `libver='latest'`), a shared message, or a type outside KNOWN and
 * IGNORED is LiteUnsupported.
 */
export function readObjectHeader(source: LiteSource, address: number): HeaderMessage[] {
  if (address === UNDEFINED_ADDRESS) unsupported('an object without a header');
  const prefix = new FieldReader(source.read(address, 16), `object header at ${address}`);
  const version = prefix.u8();
  if (version !== 1) unsupported(`object header version ${version} at ${address}`);
  prefix.skip(1);
  const declared = prefix.u16();
  prefix.u32(); // reference count: a second link is found by address (lite-tree.ts)
  const size = prefix.u32();
  const messages: HeaderMessage[] = [];
  const blocks: Array<{ address: number; size: number }> = [{ address: address + 16, size }];
  const seen = new Set<number>();
  let read = 0;
  while (blocks.length > 0) {
    const block = blocks.shift()!;
    if (seen.has(block.address) || seen.size >= MAX_BLOCKS) unsupported(`object header at ${address}: its continuations loop or are too many`);
    seen.add(block.address);
    const fields = new FieldReader(source.read(block.address, block.size), `object header at ${address}`);
    while (fields.remaining >= 8 && read < declared) {
      const type = fields.u16();
      const length = fields.u16();
      const flags = fields.u8();
      fields.skip(3);
      const data = fields.take(length);
      read++;
      if (flags & 0x02) unsupported(`a shared message (type ${type}) in the object header at ${address}`);
      if (type === MESSAGE.continuation) {
        const next = new FieldReader(data, `continuation in the object header at ${address}`);
        blocks.push({ address: next.u64(), size: next.u64() });
      } else if (KNOWN.has(type)) {
        messages.push({ type, data });
      } else if (!IGNORED.has(type)) {
        unsupported(`header message type ${type} in the object header at ${address}`);
      }
    }
  }
  if (read !== declared) unsupported(`object header at ${address}: ${declared} messages declared, ${read} found`);
  return messages;
}
