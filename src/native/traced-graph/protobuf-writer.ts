/**
 * A protocol-buffers message being written, field by field (wire format only: varints, 32-bit
 * floats, length-delimited bytes and sub-messages). Sub-messages are kept as parts, not copied, so
 * a graph that embeds hundreds of MB of weights is written once, by writeTo or toBytes.
 */
export class ProtoMessage {
  private readonly parts: Uint8Array[] = [];
  private scratch: number[] = [];
  /** Bytes written so far, the parts and the scratch buffer together. */
  private size = 0;

  get byteLength(): number {
    return this.size;
  }

  /** An int32, int64, enum or bool field; negative numbers take ten bytes, as int64 does. */
  varint(field: number, value: number | bigint | boolean): this {
    this.tag(field, 0);
    this.rawVarint(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.pushBytes(bytes);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.rawVarint(value.byteLength);
    this.pushBytes(value);
    return this;
  }

  message(field: number, message: ProtoMessage): this {
    this.tag(field, 2);
    this.rawVarint(message.byteLength);
    this.flushScratch();
    message.flushScratch();
    // One at a time: a graph's message has more parts than a spread's arguments may be.
    for (const part of message.parts) this.parts.push(part);
    this.size += message.byteLength;
    return this;
  }

  /** A packed repeated varint field (int64 lists, enum lists). */
  packedVarints(field: number, values: ReadonlyArray<number | boolean>): this {
    const packed = new ProtoMessage();
    for (const value of values) packed.rawVarint(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    return this.message(field, packed);
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: readonly number[]): this {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((value, i) => view.setFloat32(i * 4, value, true));
    return this.bytes(field, bytes);
  }

  /** A map<string, message> entry (key 1, value 2), as protobuf writes maps. */
  mapEntry(field: number, key: string, value: ProtoMessage): this {
    return this.message(field, new ProtoMessage().string(1, key).message(2, value));
  }

  /** The message's bytes as one array (copies; writeTo does not). */
  toBytes(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.byteLength;
    }
    return out;
  }

  /** The message's parts in order, to write without joining them. */
  chunks(): readonly Uint8Array[] {
    this.flushScratch();
    return this.parts;
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  private rawVarint(value: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(value));
    if (typeof value === 'number' && (!Number.isInteger(value) || !Number.isSafeInteger(value))) throw new RangeError(`not an integer a varint can hold exactly: ${value}`);
    do {
      const low = Number(n & 0x7fn);
      n >>= 7n;
      this.scratch.push(n === 0n ? low : low | 0x80);
      this.size += 1;
    } while (n !== 0n);
  }

  private pushBytes(bytes: Uint8Array): void {
    this.flushScratch();
    this.parts.push(bytes);
    this.size += bytes.byteLength;
  }

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.parts.push(Uint8Array.from(this.scratch));
    this.scratch = [];
  }
}
