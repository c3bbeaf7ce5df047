import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { Group as H5Group } from 'h5wasm';
import { isH5Dataset, loadH5wasm } from '../../src/keras/keras-file/hdf5-file.js';
import { DEFAULT_HDF5_LIMITS } from '../../src/keras/keras-file/hdf5-limits.js';
import { bytesSource } from '../../src/keras/keras-file/hdf5-lite/lite-source.js';
import { LiteUnsupported } from '../../src/keras/keras-file/hdf5-lite/lite-unsupported.js';
import { LiteDataset, LiteGroup, readLiteTree } from '../../src/keras/keras-file/hdf5-lite/lite-tree.js';
import { MESSAGE, readObjectHeader } from '../../src/keras/keras-file/hdf5-lite/object-header.js';
import { readSuperblock } from '../../src/keras/keras-file/hdf5-lite/superblock.js';
import { readGroupMembers } from '../../src/keras/keras-file/hdf5-lite/symbol-table.js';
import { HDF5_READER_VARIABLE, runHdf5Request, type Hdf5OpenResult, type Hdf5ReadReply } from '../../src/keras/keras-file/hdf5-tasks.js';
import { readKerasArchive } from '../../src/keras/keras-file/keras-archive.js';
import { REPO_ROOT } from '../support/paths.js';

// The TypeScript HDF5 reader (src/keras/keras-file/hdf5-lite/) against h5wasm, on the Keras 3 files
// in fixtures/keras (written by Keras, not by us): the same tree, attributes and bytes; and on
// damaged copies of them: a tree, or LiteUnsupported (h5wasm then reads the file), nothing else.

const KERAS_DIR = path.join(REPO_ROOT, 'fixtures', 'keras');
const FIXTURES = readdirSync(KERAS_DIR).filter((f) => f.endsWith('.keras'));
/** Whole HDF5 files: legacy models (Keras 2's, and Keras 3's `model.save('x.h5')`) and scalars of every dtype. */
const H5_FIXTURES = [...readdirSync(KERAS_DIR).filter((f) => f.endsWith('.h5')).map((f) => path.join(KERAS_DIR, f)), path.join(REPO_ROOT, 'fixtures', 'hdf5', 'scalar_datasets.h5')];

/** JSON of attribute values, typed arrays and bigints included. */
const show = (value: unknown) => JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : ArrayBuffer.isView(v) ? [v.constructor.name, ...Array.from(v as unknown as ArrayLike<unknown>, String)] : v));

/** A dataset's stored bytes read as h5wasm gives a scalar: a number, or a bigint for 64-bit integers. */
function scalarOf(bytes: Uint8Array, meta: { type: number; size: number; signed: boolean }): number | bigint {
  const view = new DataView(new Uint8Array(bytes).buffer);
  if (meta.type === 1) return meta.size === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true);
  if (meta.size === 8) return meta.signed ? view.getBigInt64(0, true) : view.getBigUint64(0, true);
  if (meta.size === 4) return meta.signed ? view.getInt32(0, true) : view.getUint32(0, true);
  return meta.signed ? view.getInt8(0) : view.getUint8(0);
}

/** A fixture's model.weights.h5 bytes (stored uncompressed in the zip, as Keras writes it). */
function weightsBytes(file: string): Uint8Array {
  const bytes = readFileSync(path.join(KERAS_DIR, file));
  const archive = readKerasArchive(bytes, file);
  const h5 = archive.weightsH5;
  assert.ok('start' in h5, `${file}: model.weights.h5 stored`);
  // A Uint8Array of its own (a Buffer's slice is a view: the damaged copies below must be copies).
  return new Uint8Array(bytes.subarray(h5.start, h5.start + h5.length));
}

/** Every difference between h5wasm's view of the file and the TypeScript reader's. */
function differences(h5: H5Group, lite: LiteGroup, bytes: Uint8Array): string[] {
  const found: string[] = [];
  const keys = h5.keys();
  if (JSON.stringify(keys) !== JSON.stringify(lite.keys())) found.push(`${h5.path}: keys ${keys} / ${lite.keys()}`);
  for (const name of Object.keys(h5.attrs)) {
    const expected = show(h5.get_attribute(name, false));
    const got = show(lite.attributes.value(name));
    if (expected !== got) found.push(`${h5.path}: attribute ${name} ${expected} / ${got}`);
  }
  if (Object.keys(h5.attrs).length !== lite.attributes.names().length) found.push(`${h5.path}: attribute names`);
  for (const key of keys) {
    const child = h5.get(key);
    const liteChild = lite.children.get(key);
    if (isH5Dataset(child)) {
      if (!(liteChild instanceof LiteDataset)) {
        found.push(`${child.path}: not a dataset`);
        continue;
      }
      const m = child.metadata;
      const l = liteChild.metadata;
      for (const field of ['type', 'size', 'signed', 'littleEndian', 'total_size'] as const) if (m[field] !== l[field]) found.push(`${child.path}: ${field} ${m[field]} / ${l[field]}`);
      if (JSON.stringify(m.shape) !== JSON.stringify(l.shape)) found.push(`${child.path}: shape`);
      const value = child.value as ArrayBufferView | number | bigint;
      const s = liteChild.storage;
      const got = Buffer.from(s.kind === 'compact' ? s.bytes : bytes.subarray(s.address, s.address + s.length));
      if (ArrayBuffer.isView(value) ? !Buffer.from(value.buffer, value.byteOffset, value.byteLength).equals(got) : !Object.is(scalarOf(got, l) === (typeof value === 'boolean' ? Number(value) : value), true)) {
        found.push(`${child.path}: values`);
      }
    } else if (!(liteChild instanceof LiteGroup)) {
      found.push(`${key}: not a group`);
    } else {
      found.push(...differences(child as H5Group, liteChild, bytes));
    }
  }
  return found;
}

/** Every difference between the two readers' views of an HDF5 file's bytes (h5wasm's opened in its own memory). */
async function bothReaders(bytes: Uint8Array, name: string): Promise<string[]> {
  const lite = readLiteTree(bytesSource(bytes), DEFAULT_HDF5_LIMITS);
  const module = await loadH5wasm();
  const fsPath = `/lite-test-${name}`;
  module.FS.writeFile(fsPath, bytes);
  const { default: h5wasm } = await import('h5wasm');
  const h5 = new h5wasm.File(fsPath, 'r');
  try {
    return differences(h5, lite, bytes);
  } finally {
    h5.close();
    module.FS.unlink(fsPath);
  }
}

describe('the TypeScript HDF5 reader (hdf5-lite/) reads what h5wasm reads, in Keras 3 weights files and legacy .h5 models', () => {
  for (const file of FIXTURES) {
    it(`${file}: the same groups, attributes, dataset types, shapes and bytes`, async () => {
      assert.deepEqual(await bothReaders(weightsBytes(file), `${file}.h5`), []);
    });
  }

  for (const file of H5_FIXTURES) {
    it(`${path.relative(REPO_ROOT, file)}: the same groups, attributes (strings, lists, numbers), dataset types, shapes and values`, async () => {
      assert.deepEqual(await bothReaders(new Uint8Array(readFileSync(file)), path.basename(file)), []);
    });
  }

  it('answers a Keras 3 file without calling h5wasm, with the same weights and bytes as h5wasm', async () => {
    const file = path.join(KERAS_DIR, 'two_branch.keras');
    const archive = readKerasArchive(readFileSync(file), file);
    assert.ok('start' in archive.weightsH5);
    const request = { kind: 'keras3-weights' as const, content: { path: file, ...archive.weightsH5 }, file, modelConfig: archive.modelConfig, limits: DEFAULT_HDF5_LIMITS };
    const module = (await loadH5wasm()) as unknown as Record<string, (...args: unknown[]) => unknown>;
    const spied = ['get_type', 'get_names', 'get_dataset_metadata', 'get_dataset_data', 'get_attribute_names'];
    const original = Object.fromEntries(spied.map((name) => [name, module[name]!]));
    let calls = 0;
    for (const name of spied) module[name] = (...args: unknown[]) => (calls++, original[name]!.apply(module, args));
    const openAndRead = async () => {
      const opened = (await runHdf5Request(request)) as Hdf5OpenResult;
      const read = (await runHdf5Request({ kind: 'read', paths: opened.weights.map((w) => w.path) })) as Hdf5ReadReply;
      await runHdf5Request({ kind: 'close' });
      return { weights: opened.weights, bytes: read.bytes.map((b) => Buffer.from(b).toString('hex')), allFinite: read.allFinite };
    };
    let lite;
    try {
      lite = await openAndRead();
      assert.equal(calls, 0, 'h5wasm was called');
    } finally {
      Object.assign(module, original);
    }
    process.env[HDF5_READER_VARIABLE] = 'h5wasm';
    try {
      assert.deepEqual(lite, await openAndRead());
    } finally {
      delete process.env[HDF5_READER_VARIABLE];
    }
  });

  it('reads a legacy .h5 model (config, weight names, weights) as h5wasm does', async () => {
    for (const file of H5_FIXTURES.filter((f) => f.includes(`${path.sep}keras${path.sep}`))) {
      const openAndRead = async () => {
        const opened = (await runHdf5Request({ kind: 'legacy-model', content: { path: file }, file, limits: DEFAULT_HDF5_LIMITS })) as Hdf5OpenResult;
        const read = (await runHdf5Request({ kind: 'read', paths: opened.weights.map((w) => w.path) })) as Hdf5ReadReply;
        await runHdf5Request({ kind: 'close' });
        return { opened, bytes: read.bytes.map((b) => Buffer.from(b).toString('hex')) };
      };
      const lite = await openAndRead();
      assert.ok(lite.opened.weights.length > 0, file);
      process.env[HDF5_READER_VARIABLE] = 'h5wasm';
      try {
        assert.deepEqual(lite, await openAndRead(), file);
      } finally {
        delete process.env[HDF5_READER_VARIABLE];
      }
    }
  });

  it('refuses, as LiteUnsupported and within its bounds, damaged copies (bytes flipped in the metadata, the file cut short)', function () {
    this.timeout(120_000);
    const bytes = weightsBytes('sublayers.keras');
    const datasets: Array<[number, number]> = [];
    const collect = (group: LiteGroup) => {
      for (const child of group.children.values()) {
        if (child instanceof LiteGroup) collect(child);
        else if (child.storage.kind === 'contiguous') datasets.push([child.storage.address, child.storage.length]);
      }
    };
    collect(readLiteTree(bytesSource(bytes), DEFAULT_HDF5_LIMITS));
    const inValues = (at: number) => datasets.some(([start, length]) => at >= start && at < start + length);
    const outcomes = { read: 0, unsupported: 0 };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.nat(bytes.length), { freq: 4 }), (flips, cut) => {
        const damaged = bytes.slice(0, cut ?? bytes.length);
        for (const [at, xor] of flips) if (at < damaged.length && !inValues(at)) damaged[at]! ^= xor;
        try {
          readLiteTree(bytesSource(damaged), DEFAULT_HDF5_LIMITS);
          outcomes.read++;
        } catch (e) {
          if (!(e instanceof LiteUnsupported)) throw e;
          outcomes.unsupported++;
        }
      }),
      { numRuns: 400, seed: 20261207 },
    );
    assert.ok(outcomes.unsupported > 50, `damage was refused: ${JSON.stringify(outcomes)}`);
  });

  it('refuses a second link to an object (a cycle), a soft link, a shared local heap and more objects than the limit, for h5wasm to name', () => {
    const bytes = weightsBytes('two_branch.keras');
    const tree = readLiteTree(bytesSource(bytes), DEFAULT_HDF5_LIMITS);
    assert.ok(tree.children.size > 0);
    // The first symbol table entry (40 bytes: name offset, header address, cache type, ...) of
    // each symbol node ("SNOD") pointed at the root's own header (a group that holds itself), or
    // made a soft link (cache type 2). The file also keeps nodes no group uses any more: at least
    // one of each edit is refused, and none with anything but LiteUnsupported.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const rootHeader = view.getBigUint64(64, true);
    const refusals = { cycle: 0, soft: 0 };
    for (let snod = Buffer.from(bytes).indexOf('SNOD'); snod >= 0; snod = Buffer.from(bytes).indexOf('SNOD', snod + 1)) {
      const edits = [
        ['cycle', (copy: DataView) => copy.setBigUint64(snod + 16, rootHeader, true), /linked twice/],
        ['soft', (copy: DataView) => copy.setUint32(snod + 24, 2, true), /soft link/],
      ] as const;
      for (const [kind, edit, message] of edits) {
        const copy = bytes.slice();
        edit(new DataView(copy.buffer));
        try {
          readLiteTree(bytesSource(copy), DEFAULT_HDF5_LIMITS);
        } catch (e) {
          assert.ok(e instanceof LiteUnsupported, String(e));
          if (message.test(e.message)) refusals[kind]++;
        }
      }
    }
    assert.ok(refusals.cycle > 0 && refusals.soft > 0, JSON.stringify(refusals));
    // A child group given the root's local heap (its names): metadata reached twice, as a hostile
    // file of many groups sharing one large heap would be (each read of it again the file's size).
    const source = bytesSource(bytes);
    const symbolTableOf = (headerAddress: number) => {
      const message = readObjectHeader(source, headerAddress, new Set()).find((m) => m.type === MESSAGE.symbolTable)!;
      const at = message.data.byteOffset - bytes.byteOffset;
      return { at, btree: Number(view.getBigUint64(at, true)), heap: Number(view.getBigUint64(at + 8, true)) };
    };
    const root = symbolTableOf(Number(rootHeader));
    const [firstGroup] = readGroupMembers(source, root.btree, root.heap, 'root', new Set(), 1000, readSuperblock(source));
    const shared = bytes.slice();
    new DataView(shared.buffer).setBigUint64(symbolTableOf(firstGroup!.headerAddress).at + 8, BigInt(root.heap), true);
    assert.throws(() => readLiteTree(bytesSource(shared), DEFAULT_HDF5_LIMITS), /reached twice/);
    const tooFew = { ...DEFAULT_HDF5_LIMITS, maxObjects: 3 };
    assert.throws(() => readLiteTree(bytesSource(bytes), tooFew), /more than \d+ (members|objects)/);
  });
});
