import { FieldReader, UNDEFINED_ADDRESS, type LiteSource } from './lite-source.js';
import { decodeUtf8, unsupported } from './lite-unsupported.js';

/** The superblock's node sizes (K): a B-tree node has at most 2K children, a symbol node 2K entries. */
export interface NodeSizes {
  groupInternalK: number;
  groupLeafK: number;
}

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
export function readGroupMembers(source: LiteSource, btreeAddress: number, heapAddress: number, what: string, visited: Set<number>, maxMembers: number, k: NodeSizes): GroupMember[] {
  claim(visited, heapAddress, what);
  const names = readLocalHeap(source, heapAddress, what);
  const members: NamedMember[] = [];
  const visit = (address: number, depth: number, expectedLevel: number | undefined): void => {
    if (depth > MAX_LEVELS) unsupported(`${what}: a B-tree deeper than ${MAX_LEVELS}`);
    claim(visited, address, what);
    // HDF5 reads a node whole, at its size for 2K entries.
    source.read(address, 24 + 8 * (4 * k.groupInternalK + 1));
    const header = new FieldReader(source.read(address, 24), `${what}: B-tree node at ${address}`);
    header.signature('TREE');
    if (header.u8() !== 0) unsupported(`${what}: a B-tree node that is not a group's`);
    const level = header.u8();
    if (expectedLevel !== undefined && level !== expectedLevel) unsupported(`${what}: B-tree levels out of order`);
    const entries = header.u16();
    if (entries > 2 * k.groupInternalK) unsupported(`${what}: a B-tree node of ${entries} entries, over 2K = ${2 * k.groupInternalK}`);
    // Keys and children alternate: key 0, child 0, key 1, …, child n-1, key n (8 bytes each).
    const body = new FieldReader(source.read(address + 24, (2 * entries + 1) * 8), `${what}: B-tree node at ${address}`);
    const keys: Uint8Array[] = [];
    const children: number[] = [];
    for (let i = 0; i < entries; i++) {
      keys.push(heapBytes(names, body.u64(), what));
      children.push(body.u64());
    }
    keys.push(heapBytes(names, body.u64(), what));
    children.forEach((child, i) => {
      const first = members.length;
      if (level === 0) readSymbolNode(source, child, names, what, visited, members, maxMembers, 2 * k.groupLeafK);
      else visit(child, depth + 1, level - 1);
      // HDF5 finds a name in the child whose keys bound it (left < name <= right): a member outside
      // its child's keys, or out of order, is one HDF5 would not find by its name.
      for (let m = first; m < members.length; m++) {
        const name = members[m]!.nameBytes;
        if (compareBytes(name, keys[i]!) <= 0 || compareBytes(name, keys[i + 1]!) > 0) unsupported(`${what}: member '${members[m]!.name}' outside its B-tree node's keys`);
        if (m > 0 && compareBytes(members[m - 1]!.nameBytes, name) >= 0) unsupported(`${what}: members out of order`);
      }
    });
  };
  visit(btreeAddress, 0, undefined);
  return members.map(({ name, headerAddress }) => ({ name, headerAddress }));
}

/** strcmp's order, HDF5's order of a group's names. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function readSymbolNode(source: LiteSource, address: number, names: Uint8Array, what: string, visited: Set<number>, members: NamedMember[], maxMembers: number, maxSymbols: number): void {
  claim(visited, address, what);
  source.read(address, 8 + maxSymbols * ENTRY_BYTES); // whole, as HDF5 reads it
  const header = new FieldReader(source.read(address, 8), `${what}: symbol node at ${address}`);
  header.signature('SNOD');
  if (header.u8() !== 1) unsupported(`${what}: symbol node version`);
  header.skip(1);
  const count = header.u16();
  if (count > maxSymbols) unsupported(`${what}: a symbol node of ${count} entries, over 2K = ${maxSymbols}`);
  if (members.length + count > maxMembers) unsupported(`${what}: more than ${maxMembers} members`);
  const entries = new FieldReader(source.read(address + 8, count * ENTRY_BYTES), `${what}: symbol node at ${address}`);
  for (let i = 0; i < count; i++) {
    const nameOffset = entries.u64();
    const headerAddress = entries.u64();
    const cacheType = entries.u32();
    entries.skip(4 + 16);
    if (cacheType === 2) unsupported(`${what}: a soft link`);
    if (cacheType > 2) unsupported(`${what}: symbol cache type ${cacheType}`);
    const nameBytes = heapBytes(names, nameOffset, what);
    members.push({ name: memberName(nameBytes, what), nameBytes, headerAddress });
  }
}

/** A local heap's data segment (a group's member names, null-terminated). */
function readLocalHeap(source: LiteSource, address: number, what: string): Uint8Array {
  const fields = new FieldReader(source.read(address, 32), `${what}: local heap at ${address}`);
  fields.signature('HEAP');
  if (fields.u8() !== 0) unsupported(`${what}: local heap version`);
  fields.skip(3);
  const size = fields.u64();
  const freeList = fields.u64();
  const dataAddress = fields.u64();
  if (dataAddress === UNDEFINED_ADDRESS) unsupported(`${what}: a local heap without data`);
  const data = source.read(dataAddress, size);
  checkFreeList(data, freeList, what);
  return data;
}

/** No free block: HDF5's "null" free list offset. */
const FREE_NULL = 1;

/**
 * The heap's free blocks (next offset, size; 8 bytes each), as HDF5 checks them when it loads the
 * heap: each inside the data, none linking to offset 0. A damaged list is a file HDF5 refuses.
 */
function checkFreeList(data: Uint8Array, head: number, what: string): void {
  const seen = new Set<number>();
  for (let block = head; block !== FREE_NULL; ) {
    if (block >= data.length || seen.has(block)) unsupported(`${what}: a bad local heap free list`);
    seen.add(block);
    const fields = new FieldReader(data.subarray(block), `${what}: local heap free list`);
    const next = fields.u64();
    const size = fields.u64();
    if (next === 0 || block + size > data.length) unsupported(`${what}: a bad local heap free list`);
    block = next;
  }
}

/** A member with its name's bytes, which order the group. */
type NamedMember = GroupMember & { nameBytes: Uint8Array };

/** The null-terminated bytes at `offset` of a local heap's data. */
function heapBytes(heap: Uint8Array, offset: number, what: string): Uint8Array {
  const end = offset < heap.length ? heap.indexOf(0, offset) : -1;
  if (end < 0) unsupported(`${what}: a name outside its heap`);
  return heap.subarray(offset, end);
}

function memberName(bytes: Uint8Array, what: string): string {
  const name = decodeUtf8(bytes, `${what}: a member name`);
  if (name === '' || name.includes('/') || name === '.') unsupported(`${what}: member name '${name}'`);
  return name;
}

/** Each piece of metadata read once per file: a node seen again is a loop or a shared subtree. */
function claim(visited: Set<number>, address: number, what: string): void {
  if (visited.has(address)) unsupported(`${what}: metadata at ${address} reached twice`);
  visited.add(address);
}
