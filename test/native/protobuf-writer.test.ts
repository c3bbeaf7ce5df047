import assert from 'node:assert/strict';
import { ProtoMessage } from '../../src/native/traced-graph/protobuf-writer.js';

const bytes = (m: ProtoMessage) => [...m.toBytes()];

// The wire format, byte by byte, as the protocol-buffers encoding guide spells it out.
describe('ProtoMessage: the protocol-buffers wire format', () => {
  it('writes varints little-end first, seven bits a byte, with the field number and wire type 0 in the tag', () => {
    assert.deepEqual(bytes(new ProtoMessage().varint(1, 150)), [0x08, 0x96, 0x01]);
    assert.deepEqual(bytes(new ProtoMessage().varint(2, 300)), [0x10, 0xac, 0x02]);
    assert.deepEqual(bytes(new ProtoMessage().varint(1, 0)), [0x08, 0x00]);
    assert.deepEqual(bytes(new ProtoMessage().varint(5, true)), [0x28, 0x01]);
    // Field 16 needs a two-byte tag.
    assert.deepEqual(bytes(new ProtoMessage().varint(16, 1)), [0x80, 0x01, 0x01]);
  });

  it('writes a negative int64 (an unknown dimension, -1) as ten bytes of two\'s complement', () => {
    assert.deepEqual(bytes(new ProtoMessage().varint(1, -1)), [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.deepEqual(bytes(new ProtoMessage().varint(1, 2n ** 40n)), [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
  });

  it('refuses a number a varint cannot hold exactly', () => {
    assert.throws(() => new ProtoMessage().varint(1, 1.5), /not an integer/);
    assert.throws(() => new ProtoMessage().varint(1, 2 ** 60), /not an integer a varint can hold exactly/);
  });

  it('writes floats as four little-endian bytes (wire type 5) and strings and bytes length-prefixed (wire type 2)', () => {
    assert.deepEqual(bytes(new ProtoMessage().float(4, 1)), [0x25, 0x00, 0x00, 0x80, 0x3f]);
    assert.deepEqual(bytes(new ProtoMessage().string(2, 'testing')), [0x12, 0x07, ...Buffer.from('testing')]);
    assert.deepEqual(bytes(new ProtoMessage().bytes(4, new Uint8Array([1, 2, 3]))), [0x22, 0x03, 1, 2, 3]);
  });

  it('writes a sub-message length-prefixed, its parts shared rather than copied', () => {
    const inner = new ProtoMessage().varint(1, 150);
    const big = new Uint8Array(300).fill(7);
    inner.bytes(2, big);
    const outer = new ProtoMessage().message(3, inner).varint(4, 1);
    const out = outer.toBytes();
    assert.equal(outer.byteLength, out.byteLength);
    // tag 3/2, length 3 + 3 + 300 = 306 as a varint (0xb2 0x02), then the inner message.
    assert.deepEqual([...out.subarray(0, 6)], [0x1a, 0xb2, 0x02, 0x08, 0x96, 0x01]);
    assert.equal(out.byteLength, 3 + 306 + 2);
    assert.ok(outer.chunks().includes(big), 'the 300 bytes are the same array, not a copy');
    assert.deepEqual([...Buffer.concat(outer.chunks())], [...out]);
  });

  it('writes packed repeated fields and map entries as protobuf does', () => {
    assert.deepEqual(bytes(new ProtoMessage().packedVarints(3, [3, 270, 86942])), [0x1a, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
    assert.deepEqual(bytes(new ProtoMessage().packedFloats(4, [1, -2])), [0x22, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
    // map<string, M>: an entry message of key (1) and value (2).
    assert.deepEqual(bytes(new ProtoMessage().mapEntry(5, 'T', new ProtoMessage().varint(6, 1))), [0x2a, 0x07, 0x0a, 0x01, 0x54, 0x12, 0x02, 0x30, 0x01]);
  });

  it('nests a message of more parts than a call may take arguments (a graph of thousands of nodes)', () => {
    const graph = new ProtoMessage();
    for (let i = 0; i < 200_000; i++) graph.bytes(1, new Uint8Array([i & 0xff]));
    const outer = new ProtoMessage().message(2, graph);
    assert.equal(outer.byteLength, 1 + 3 + 200_000 * 3);
    assert.equal(outer.toBytes().byteLength, outer.byteLength);
  });
});
