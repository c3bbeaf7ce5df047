import { FieldReader, UNDEFINED_ADDRESS, type LiteSource } from './lite-source.js';
import { unsupported } from './lite-unsupported.js';

/** Header message types the reader knows (HDF5 file format, section IV.A.2). */
export const MESSAGE = {
  nil: 0x0000,
  dataspace: 0x0001,
  datatype: 0x0003,
  fillValue: 0x0005,
  layout: 0x0008,
  filterPipeline: 0x000b,
  attribute: 0x000c,
  continuation: 0x0010,
  symbolTable: 0x0011,
} as const;

/**
 * Messages that say nothing the reader needs, checked as HDF5 decodes them and skipped: the
 * empty message, and a dataset's fill value (h5py writes one in each). Any type not here or
 * in KNOWN is left to h5wasm.
 */
const IGNORED = new Map<number, (data: Uint8Array, what: string) => void>([
  [MESSAGE.nil, () => {}],
  [MESSAGE.fillValue, checkFillValue],
]);

const KNOWN = new Set<number>([MESSAGE.dataspace, MESSAGE.datatype, MESSAGE.layout, MESSAGE.filterPipeline, MESSAGE.attribute, MESSAGE.symbolTable]);

export interface HeaderMessage {
  type: number;
  data: Uint8Array;
}

/** Header blocks (the first and its continuations) one object may have. */
const MAX_BLOCKS = 256;

/**
 * The messages of a version 1 object header, continuations followed (each block once in the file). A
 * version 2 header ("OHDR", `libver='latest'`), a shared message, or a type outside KNOWN and
 * IGNORED is LiteUnsupported.
 */
export function readObjectHeader(source: LiteSource, address: number, visited: Set<number>): HeaderMessage[] {
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
  let read = 0;
  for (let count = 0; blocks.length > 0; count++) {
    const block = blocks.shift()!;
    // Continuation blocks, as every piece of metadata, are read once in the whole file (`visited`).
    if (count > 0 && visited.has(block.address)) unsupported(`object header at ${address}: a continuation block reached twice`);
    if (count >= MAX_BLOCKS) unsupported(`object header at ${address}: more than ${MAX_BLOCKS} continuation blocks`);
    if (count > 0) visited.add(block.address);
    const fields = new FieldReader(source.read(block.address, block.size), `object header at ${address}`);
    // Every message of the block, as HDF5 decodes them (past the declared count too: a count that
    // disagrees is refused below).
    while (fields.remaining > 0) {
      const type = fields.u16();
      const length = fields.u16();
      const flags = fields.u8();
      fields.skip(3);
      const data = fields.take(length);
      read++;
      // Version 1 headers align every message to 8 bytes; h5py flags a message constant (1) or
      // not at all (shared and shareable messages, and the rest, are h5wasm's).
      if (length % 8 !== 0) unsupported(`a message not aligned in the object header at ${address}`);
      if (flags > 1) unsupported(`message flags ${flags} (type ${type}) in the object header at ${address}`);
      if (type === MESSAGE.continuation) {
        const next = new FieldReader(data, `continuation in the object header at ${address}`);
        blocks.push({ address: next.u64(), size: next.u64() });
      } else if (KNOWN.has(type)) {
        messages.push({ type, data });
      } else {
        const check = IGNORED.get(type);
        if (!check) unsupported(`header message type ${type} in the object header at ${address}`);
        check(data, `object header at ${address}`);
      }
    }
  }
  if (read !== declared) unsupported(`object header at ${address}: ${declared} messages declared, ${read} found`);
  return messages;
}

/** A fill value message (versions 1 to 3) whose fields and value fit in it, as HDF5 decodes it. */
function checkFillValue(data: Uint8Array, what: string): void {
  const fields = new FieldReader(data, `${what}: fill value`);
  const version = fields.u8();
  if (version === 1 || version === 2) {
    fields.skip(2); // allocation and write times
    const defined = fields.u8();
    if (version === 1 || defined) fields.skip(fields.u32());
  } else if (version === 3) {
    if (fields.u8() & 0x20) fields.skip(fields.u32());
  } else {
    unsupported(`${what}: fill value version ${version}`);
  }
}
