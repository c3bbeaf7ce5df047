import { FieldReader, UNDEFINED_ADDRESS, type LiteSource } from './lite-source.js';
import { decodeUtf8, unsupported } from './lite-unsupported.js';

/** One member of a group: its name and where its object header is. */
export interface GroupMember {
  name: string;
  headerAddress: number;
}

/** B-tree levels a group's symbol table may have (each level multiplies its entries by 2K, K=16 by default). */
const MAX_LEVELS = 16;

/** Symbol table entries: link name offset, object header address, cache type, reserved, scratch pad. */
const ENTRY_BYTES = 40;

/**
 * The members of an old-style group (a version 1 B-tree of symbol table nodes, names in a local
 * heap), in the B-tree's order: sorted by name, as HDF5 lists them. A soft link (cache type 2) is
 * LiteUnsupported, as is a tree whose nodes repeat (`visited`, shared by the whole file's walk) or
 * that holds more than `maxMembers`.
 */
export function readGroupMembers(source: LiteSource, btreeAddress: number, heapAddress: number, what: string, visited: Set<number>, maxMembers: number): GroupMember[] {
  const names = readLocalHeap(source, heapAddress, what);
  const members: GroupMember[] = [];
  const visit = (address: number, depth: number, expectedLevel: number | undefined): void => {
    if (depth > MAX_LEVELS) unsupported(`${what}: a B-tree deeper than ${MAX_LEVELS}`);
    claim(visited, address, what);
    const header = new FieldReader(source.read(address, 24), `${what}: B-tree node at ${address}`);
    header.signature('TREE');
    if (header.u8() !== 0) unsupported(`${what}: a B-tree node that is not a group's`);
    const level = header.u8();
    if (expectedLevel !== undefined && level !== expectedLevel) unsupported(`${what}: B-tree levels out of order`);
    const entries = header.u16();
    if (entries > 4096) unsupported(`${what}: a B-tree node of ${entries} entries`);
    // Keys and children alternate: key 0, child 0, key 1, …, child n-1, key n (8 bytes each).
    const body = new FieldReader(source.read(address + 24, (2 * entries + 1) * 8), `${what}: B-tree node at ${address}`);
    const children: number[] = [];
    for (let i = 0; i < entries; i++) {
      body.u64();
      children.push(body.u64());
    }
    for (const child of children) {
      if (level === 0) readSymbolNode(source, child, names, what, visited, members, maxMembers);
      else visit(child, depth + 1, level - 1);
    }
  };
  visit(btreeAddress, 0, undefined);
  return members;
}

function readSymbolNode(source: LiteSource, address: number, names: Uint8Array, what: string, visited: Set<number>, members: GroupMember[], maxMembers: number): void {
  claim(visited, address, what);
  const header = new FieldReader(source.read(address, 8), `${what}: symbol node at ${address}`);
  header.signature('SNOD');
  if (header.u8() !== 1) unsupported(`${what}: symbol node version`);
  header.skip(1);
  const count = header.u16();
  if (members.length + count > maxMembers) unsupported(`${what}: more than ${maxMembers} members`);
  const entries = new FieldReader(source.read(address + 8, count * ENTRY_BYTES), `${what}: symbol node at ${address}`);
  for (let i = 0; i < count; i++) {
    const nameOffset = entries.u64();
    const headerAddress = entries.u64();
    const cacheType = entries.u32();
    entries.skip(4 + 16);
    if (cacheType === 2) unsupported(`${what}: a soft link`);
    if (cacheType > 2) unsupported(`${what}: symbol cache type ${cacheType}`);
    members.push({ name: heapString(names, nameOffset, what), headerAddress });
  }
}

/** A local heap's data segment (a group's member names, null-terminated). */
function readLocalHeap(source: LiteSource, address: number, what: string): Uint8Array {
  const fields = new FieldReader(source.read(address, 32), `${what}: local heap at ${address}`);
  fields.signature('HEAP');
  if (fields.u8() !== 0) unsupported(`${what}: local heap version`);
  fields.skip(3);
  const size = fields.u64();
  fields.u64(); // free list
  const dataAddress = fields.u64();
  if (dataAddress === UNDEFINED_ADDRESS) unsupported(`${what}: a local heap without data`);
  return source.read(dataAddress, size);
}

function heapString(heap: Uint8Array, offset: number, what: string): string {
  const end = heap.indexOf(0, offset);
  if (offset >= heap.length || end < 0) unsupported(`${what}: a member name outside its heap`);
  const name = decodeUtf8(heap.subarray(offset, end), `${what}: a member name`);
  if (name === '' || name.includes('/') || name === '.') unsupported(`${what}: member name '${name}'`);
  return name;
}

/** Each piece of metadata read once per file: a node seen again is a loop or a shared subtree. */
function claim(visited: Set<number>, address: number, what: string): void {
  if (visited.has(address)) unsupported(`${what}: metadata at ${address} reached twice`);
  visited.add(address);
}
