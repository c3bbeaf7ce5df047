import { FieldReader, MAX_METADATA_READ, UNDEFINED_ADDRESS, type LiteSource } from './lite-source.js';
import { unsupported } from './lite-unsupported.js';

/**
 * Objects of global heap collections (where variable-length strings keep their bytes), each
 * collection read once per file.
 */
export class GlobalHeap {
  private readonly collections = new Map<number, Map<number, Uint8Array>>();

  constructor(private readonly source: LiteSource) {}

  /** Object `index` of the collection at `address`. */
  object(address: number, index: number, what: string): Uint8Array {
    const object = this.collection(address, what).get(index);
    if (!object) unsupported(`${what}: global heap object ${index} missing at ${address}`);
    return object;
  }

  private collection(address: number, what: string): Map<number, Uint8Array> {
    let objects = this.collections.get(address);
    if (objects) return objects;
    if (address === UNDEFINED_ADDRESS) unsupported(`${what}: no global heap`);
    const header = new FieldReader(this.source.read(address, 16), `${what}: global heap at ${address}`);
    header.signature('GCOL');
    if (header.u8() !== 1) unsupported(`${what}: global heap version`);
    header.skip(3);
    const size = header.u64();
    if (size < 16 || size > MAX_METADATA_READ) unsupported(`${what}: a global heap of ${size} bytes`);
    const fields = new FieldReader(this.source.read(address, size), `${what}: global heap at ${address}`);
    fields.skip(16);
    objects = new Map();
    while (fields.remaining >= 16) {
      const index = fields.u16();
      fields.skip(2 + 4); // reference count, reserved
      const length = fields.u64();
      if (index === 0) break; // free space: the rest of the collection
      objects.set(index, fields.take(length));
      fields.skip(Math.min(fields.remaining, (8 - (length % 8)) % 8));
    }
    this.collections.set(address, objects);
    return objects;
  }
}
