import type { Hdf5Limits } from '../hdf5-limits.js';
import { GlobalHeap } from './global-heap.js';
import { FieldReader, UNDEFINED_ADDRESS, type LiteSource } from './lite-source.js';
import { decodeUtf8, unsupported } from './lite-unsupported.js';
import { readAttributeMessage, readDatatype, readDataspace, readLayout, readSymbolTableMessage, type LiteAttributeMessage, type LiteDatatype, type LiteStorage } from './message-fields.js';
import { MESSAGE, readObjectHeader, type HeaderMessage } from './object-header.js';
import { readSuperblock } from './superblock.js';
import { readGroupMembers } from './symbol-table.js';

/** A dataset's type and shape, in the fields of h5wasm's `Dataset.metadata` that hdf5-file.ts reads. */
export type LiteDatasetMetadata = LiteDatatype & { shape: number[]; total_size: number };

/** An object's attributes: names listed from its header, values decoded when asked. */
export class LiteAttributes {
  private readonly values = new Map<string, unknown>();

  constructor(
    private readonly messages: ReadonlyMap<string, LiteAttributeMessage>,
    private readonly heap: GlobalHeap,
    private readonly what: string,
  ) {}

  names(): string[] {
    return [...this.messages.keys()];
  }

  /**
   * The value as h5wasm's `get_attribute(name, false)` gives it: for strings a string (a scalar)
   * or a list of strings, for numbers a number or bigint (a scalar) or a typed array. Other types
   * are LiteUnsupported.
   */
  value(name: string): unknown {
    if (this.values.has(name)) return this.values.get(name);
    const message = this.messages.get(name);
    if (!message) return undefined;
    const where = `${this.what}: attribute '${name}'`;
    const { type } = message.datatype;
    const values = type === 0 || type === 1 ? decodeNumbers(message, where) : decodeStrings(message, this.heap, where);
    const value = message.shape.length === 0 ? values[0] : values;
    this.values.set(name, value);
    return value;
  }
}

export class LiteGroup {
  readonly children = new Map<string, LiteGroup | LiteDataset>();
  constructor(
    readonly path: string,
    readonly attributes: LiteAttributes,
  ) {}

  /** Member names in HDF5's order (by name). */
  keys(): string[] {
    return [...this.children.keys()];
  }
}

export class LiteDataset {
  constructor(
    readonly path: string,
    readonly metadata: LiteDatasetMetadata,
    readonly storage: LiteStorage,
    readonly attributes: LiteAttributes,
  ) {}

  get byteLength(): number {
    return this.metadata.size * this.metadata.total_size;
  }
}

/** The object at `path` ('/a/b' or 'a/b', from the root), or undefined. */
export function liteObject(root: LiteGroup, path: string): LiteGroup | LiteDataset | undefined {
  let node: LiteGroup | LiteDataset | undefined = root;
  for (const name of path.split('/')) {
    if (name === '') continue;
    node = node instanceof LiteGroup ? node.children.get(name) : undefined;
    if (!node) return undefined;
  }
  return node;
}

/**
 * The whole file's tree of groups and datasets, read once, checked as checkHdf5Structure checks
 * h5wasm's (hdf5-structure.ts): only hard links, each object reached once (no cycle, no shared
 * subtree), nesting, object count and declared bytes within `limits`, every dataset's values
 * inside the file; anything else is LiteUnsupported, for h5wasm to read or refuse in its words.
 * Bounded: each piece of metadata is read once, and the walk keeps its own stack.
 */
export function readLiteTree(whole: LiteSource, limits: Hdf5Limits): LiteGroup {
  const superblock = readSuperblock(whole);
  const { rootHeaderAddress } = superblock;
  const source = boundedSource(whole, superblock.endOfFile);
  const heap = new GlobalHeap(source);
  const visited = new Set<number>([rootHeaderAddress]);
  const root = readObject(source, rootHeaderAddress, '/', heap, visited);
  if (!(root.node instanceof LiteGroup) || !root.symbolTable) unsupported('the root is not a group');
  const allowedBytes = Math.max(source.length * limits.maxExpansionRatio, 1024 * 1024);
  let objects = 0;
  let declaredBytes = 0;
  const pending = [{ group: root.node, symbolTable: root.symbolTable, depth: 0 }];
  while (pending.length > 0) {
    const { group, symbolTable, depth } = pending.pop()!;
    const members = readGroupMembers(source, symbolTable.btreeAddress, symbolTable.heapAddress, `group '${group.path}'`, visited, limits.maxObjects - objects, superblock);
    for (const { name, headerAddress } of members) {
      if (++objects > limits.maxObjects) unsupported(`more than ${limits.maxObjects} objects`);
      if (group.children.has(name)) unsupported(`group '${group.path}': member '${name}' twice`);
      if (visited.has(headerAddress)) unsupported(`'${name}' in '${group.path}': an object linked twice`);
      visited.add(headerAddress);
      const path = group.path === '/' ? `/${name}` : `${group.path}/${name}`;
      const child = readObject(source, headerAddress, path, heap, visited);
      group.children.set(name, child.node);
      if (child.node instanceof LiteGroup) {
        if (depth + 1 > limits.maxDepth) unsupported(`groups nested deeper than ${limits.maxDepth}`);
        pending.push({ group: child.node, symbolTable: child.symbolTable!, depth: depth + 1 });
      } else {
        const bytes = child.node.byteLength;
        if (bytes > limits.maxTensorBytes) unsupported(`dataset '${path}' of ${bytes} bytes`);
        declaredBytes += bytes;
        if (declaredBytes > limits.maxTotalBytes || declaredBytes > allowedBytes) unsupported(`datasets declaring ${declaredBytes} bytes`);
      }
    }
  }
  return root.node;
}

/**
 * Metadata read in all, at most: this many times the file, or METADATA_FLOOR_BYTES. Each piece is
 * read once, but pieces may overlap: a hostile file of many groups whose local heaps all span the
 * file would otherwise read it again for each.
 */
const METADATA_FILE_MULTIPLE = 4;
const METADATA_FLOOR_BYTES = 64 * 1024 * 1024;

/** The file as HDF5 reads it: nothing past the superblock's end of file, and a bound on all reads together. */
function boundedSource(whole: LiteSource, endOfFile: number): LiteSource {
  const budget = Math.max(METADATA_FILE_MULTIPLE * endOfFile, METADATA_FLOOR_BYTES);
  let read = 0;
  return {
    length: endOfFile,
    read(at, n) {
      if (at + n > endOfFile) unsupported(`a read of ${n} bytes at ${at}, past the end of file`);
      read += n;
      if (read > budget) unsupported(`more than ${budget} bytes of metadata read`);
      return whole.read(at, n);
    },
  };
}

interface ReadObject {
  node: LiteGroup | LiteDataset;
  symbolTable?: { btreeAddress: number; heapAddress: number };
}

function readObject(source: LiteSource, address: number, path: string, heap: GlobalHeap, visited: Set<number>): ReadObject {
  const what = `'${path}'`;
  const messages = readObjectHeader(source, address, visited);
  const only = (type: number): HeaderMessage | undefined => {
    const found = messages.filter((m) => m.type === type);
    if (found.length > 1) unsupported(`${what}: message type ${type} twice`);
    return found[0];
  };
  const attributes = new Map<string, LiteAttributeMessage>();
  for (const m of messages.filter((m) => m.type === MESSAGE.attribute)) {
    const attribute = readAttributeMessage(m.data, what);
    if (attributes.has(attribute.name)) unsupported(`${what}: attribute '${attribute.name}' twice`);
    attributes.set(attribute.name, attribute);
  }
  const attrs = new LiteAttributes(attributes, heap, what);
  const symbolTable = only(MESSAGE.symbolTable);
  const layout = only(MESSAGE.layout);
  if (symbolTable && !layout) return { node: new LiteGroup(path, attrs), symbolTable: readSymbolTableMessage(symbolTable.data, what) };
  const datatypeMessage = only(MESSAGE.datatype);
  const dataspaceMessage = only(MESSAGE.dataspace);
  if (!layout || symbolTable || !datatypeMessage || !dataspaceMessage) unsupported(`${what}: neither a group nor a dataset`);
  if (only(MESSAGE.filterPipeline)) unsupported(`${what}: filters`);
  const datatype = readDatatype(datatypeMessage.data, what);
  // Weights only: other types are h5wasm's to describe in its error (tensorInfo).
  if (!(datatype.type === 0 || datatype.type === 1 || (datatype.type === 8 && datatype.size === 1))) unsupported(`${what}: datatype class ${datatype.type}`);
  const shape = readDataspace(dataspaceMessage.data, what);
  const elements = shape.reduce((n, d) => n * d, 1);
  const bytes = elements * datatype.size;
  if (!Number.isSafeInteger(bytes)) unsupported(`${what}: shape [${shape.join(', ')}]`);
  const storage = readLayout(layout.data, what);
  if (storage.kind === 'compact' ? storage.bytes.length !== bytes : storage.length !== bytes) unsupported(`${what}: storage of another size than its shape`);
  if (storage.kind === 'contiguous' && bytes > 0 && (storage.address === UNDEFINED_ADDRESS || storage.address + bytes > source.length)) unsupported(`${what}: values outside the file`);
  return { node: new LiteDataset(path, { ...datatype, shape, total_size: elements }, storage, attrs) };
}

const NUMBER_ARRAYS: Record<string, new (buffer: ArrayBuffer) => ArrayLike<number | bigint>> = {
  '1:4': Float32Array,
  '1:8': Float64Array,
  'i:1': Int8Array,
  'i:2': Int16Array,
  'i:4': Int32Array,
  'i:8': BigInt64Array,
  'u:1': Uint8Array,
  'u:2': Uint16Array,
  'u:4': Uint32Array,
  'u:8': BigUint64Array,
};

/** Numbers of an attribute (little-endian), as a typed array of their type. */
function decodeNumbers(message: LiteAttributeMessage, what: string): ArrayLike<number | bigint> {
  const { type, size, signed, littleEndian } = message.datatype;
  const Array = NUMBER_ARRAYS[type === 1 ? `1:${size}` : `${signed ? 'i' : 'u'}:${size}`];
  if (!Array || (!littleEndian && size > 1)) unsupported(`${what}: a ${size}-byte number of class ${type}`);
  // A copy of its own: aligned, and not a view of the file's bytes.
  return new Array(new Uint8Array(message.raw).buffer);
}

/** Strings of an attribute: variable-length (in the global heap) or fixed-length. */
function decodeStrings(message: LiteAttributeMessage, heap: GlobalHeap, what: string): string[] {
  const { datatype, raw } = message;
  if (datatype.type === 9) {
    const fields = new FieldReader(raw, what);
    const strings: string[] = [];
    while (fields.remaining > 0) {
      const length = fields.u32();
      const address = fields.u64();
      const index = fields.u32();
      const bytes = length === 0 ? new Uint8Array(0) : heap.object(address, index, what);
      if (bytes.length < length) unsupported(`${what}: a string longer than its heap object`);
      strings.push(decodeUtf8(bytes.subarray(0, length), what));
    }
    return strings;
  }
  if (datatype.type === 3 && datatype.size > 0) {
    const strings: string[] = [];
    for (let at = 0; at < raw.length; at += datatype.size) {
      let piece = raw.subarray(at, at + datatype.size);
      const nul = piece.indexOf(0);
      if (nul >= 0) piece = piece.subarray(0, nul);
      strings.push(decodeUtf8(piece, what).replace(datatype.strpad === 2 ? / +$/ : /$^/, ''));
    }
    return strings;
  }
  unsupported(`${what}: not a string`);
}
