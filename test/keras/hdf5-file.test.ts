import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import h5wasm from 'h5wasm';
import { isH5Dataset as isDataset, landedReads, loadH5wasm, openHdf5File, readTensor, withHdf5File, type H5Dataset as Dataset, type H5Group as Group } from '../../src/keras/keras-file/hdf5-file.js';
import { DEFAULT_HDF5_LIMITS } from '../../src/keras/keras-file/hdf5-limits.js';
import { HDF5_READER_VARIABLE, runHdf5Request, type Hdf5OpenResult, type Hdf5ReadReply } from '../../src/keras/keras-file/hdf5-tasks.js';
import { readKerasArchive } from '../../src/keras/keras-file/keras-archive.js';
import { crc32 } from '../../src/keras/keras-file/zip/crc32.js';
import { REPO_ROOT } from '../support/paths.js';

// fixtures/hdf5/scalar_datasets.h5 (scripts/make_keras_files.py scalar_datasets): one 0-d dataset
// of each weight dtype, as h5py writes them, and the bytes numpy gives for each.
const FILE = path.join(REPO_ROOT, 'fixtures', 'hdf5', 'scalar_datasets.h5');
const EXPECTED = JSON.parse(readFileSync(FILE.replace(/\.h5$/, '.json'), 'utf8')) as Record<string, { dtype: string; bytes: string }>;

describe('reading HDF5 datasets', () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`a 0-d ${name} dataset reads as a shape-[] tensor with its exact bytes`, async () => {
      const tensor = await withHdf5File({ path: FILE }, FILE, (root) => {
        const dataset = root.get(name);
        assert.ok(isDataset(dataset));
        return readTensor(dataset, `${FILE}: '${name}'`);
      });
      assert.deepEqual(tensor.shape, []);
      assert.equal(tensor.dtype, expected.dtype);
      assert.equal(Buffer.from(tensor.bytes).toString('hex'), expected.bytes);
    });
  }
});

describe('an HDF5 file read in place from a byte range of a host file', () => {
  const h5 = readFileSync(FILE);
  let tmp: string;
  before(async () => (tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-h5-range-'))));
  after(async () => rm(tmp, { recursive: true, force: true }));

  /** The HDF5 file between `before` and `after` bytes of something else, as a .keras zip stores model.weights.h5. */
  async function embedded(before: Buffer, after: Buffer): Promise<string> {
    const file = path.join(tmp, `embedded-${before.length}-${after.length}.bin`);
    await writeFile(file, Buffer.concat([before, h5, after]));
    return file;
  }

  const everyTensor = (root: Group) => Object.fromEntries(Object.keys(EXPECTED).map((name) => [name, Buffer.from(readTensor(root.get(name) as Dataset, name).bytes).toString('hex')]));
  const expected = Object.fromEntries(Object.entries(EXPECTED).map(([name, e]) => [name, e.bytes]));

  it('reads every dataset at its offset from the range start, whatever lies around it', async () => {
    // Another HDF5 file's signature before it, and bytes after it that are not HDF5.
    const file = await embedded(Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(1000, 7)]), Buffer.alloc(4096, 0xff));
    const tensors = await withHdf5File({ path: file, start: 1008, length: h5.length }, file, everyTensor);
    assert.deepEqual(tensors, expected);
  });

  it('reads nothing past the range: cut short, the file is damaged, not completed from what follows', async () => {
    const file = await embedded(Buffer.alloc(512, 1), h5);
    await assert.rejects(withHdf5File({ path: file, start: 512, length: h5.length - 64 }, file, everyTensor), (e: Error) => e instanceof InputError && e.message.startsWith(`${file}: `));
  });

  it("checks a stored zip entry's recorded CRC-32 over the range before HDF5 reads it, naming the archive and the entry", async () => {
    const file = await embedded(Buffer.alloc(300, 5), Buffer.alloc(10, 0));
    const zipEntry = { archive: 'model.keras', name: 'model.weights.h5', crc32: crc32(h5) };
    const tensors = await withHdf5File({ path: file, start: 300, length: h5.length, zipEntry }, file, everyTensor);
    assert.deepEqual(tensors, expected);
    const otherCrc = { ...zipEntry, crc32: (zipEntry.crc32 ^ 1) >>> 0 };
    let read = false;
    await assert.rejects(
      withHdf5File({ path: file, start: 300, length: h5.length, zipEntry: otherCrc }, file, () => (read = true)),
      (e: Error) => e instanceof InputError && /^model\.keras: zip entry 'model\.weights\.h5': CRC-32 [0-9a-f]{8} of its bytes disagrees with the [0-9a-f]{8} the archive records: the entry is damaged/.test(e.message),
    );
    assert.equal(read, false, 'HDF5 never opened the damaged entry');
  });

  describe("with the CRC-32 check left for later (the HDF5 reader's thread)", () => {
    const CRC_ERROR = /^model\.keras: zip entry 'model\.weights\.h5': CRC-32 [0-9a-f]{8} of its bytes disagrees with the [0-9a-f]{8} the archive records: the entry is damaged/;
    const later = { checkStoredBytesLater: true };
    const readAll = (opened: Awaited<ReturnType<typeof openHdf5File>>) =>
      Object.fromEntries(Object.keys(EXPECTED).map((name) => [name, Buffer.from(opened.readDataset(name, name, (n) => new ArrayBuffer(n)).bytes).toString('hex')]));

    it('opens the entry, and refuses every dataset read (each time) where its bytes disagree with the recorded CRC-32', async () => {
      const file = await embedded(Buffer.alloc(200, 5), Buffer.alloc(10, 0));
      const zipEntry = { archive: 'model.keras', name: 'model.weights.h5', crc32: (crc32(h5) ^ 1) >>> 0 };
      const opened = await openHdf5File({ path: file, start: 200, length: h5.length, zipEntry }, file, DEFAULT_HDF5_LIMITS, later);
      try {
        // The structure is read: the check waits for the datasets' bytes.
        assert.deepEqual(opened.read((root) => root.keys().sort()), Object.keys(EXPECTED).sort());
        const name = Object.keys(EXPECTED)[0]!;
        for (let i = 0; i < 2; i++) assert.throws(() => opened.readDataset(name, name, (n) => new ArrayBuffer(n)), (e: Error) => e instanceof InputError && CRC_ERROR.test(e.message));
        assert.throws(() => opened.checkStoredBytes(), (e: Error) => e instanceof InputError && CRC_ERROR.test(e.message));
      } finally {
        opened.close();
      }
      const right = await openHdf5File({ path: file, start: 200, length: h5.length, zipEntry: { ...zipEntry, crc32: crc32(h5) } }, file, DEFAULT_HDF5_LIMITS, later);
      try {
        right.checkStoredBytes();
        assert.deepEqual(readAll(right), expected);
      } finally {
        right.close();
      }
    });

    it('checks the bytes of the file it opened, though its path was since moved and another file put there', async () => {
      const file = await embedded(Buffer.alloc(200, 5), Buffer.alloc(10, 0));
      const zipEntry = { archive: 'model.keras', name: 'model.weights.h5', crc32: crc32(h5) };
      const opened = await openHdf5File({ path: file, start: 200, length: h5.length, zipEntry }, file, DEFAULT_HDF5_LIMITS, later);
      try {
        renameSync(file, `${file}.moved`);
        await writeFile(file, Buffer.alloc(200 + h5.length + 10, 0xcc));
        opened.checkStoredBytes();
        assert.deepEqual(readAll(opened), expected);
      } finally {
        opened.close();
      }
    });

    it('reports a damaged entry HDF5 cannot open by its CRC-32, not by what HDF5 made of it', async () => {
      const damaged = Buffer.from(h5);
      damaged.fill(0xee, 8, 64); // the superblock past its signature
      const file = path.join(tmp, 'damaged-superblock.bin');
      await writeFile(file, Buffer.concat([Buffer.alloc(100, 1), damaged]));
      const content = { path: file, start: 100, length: h5.length };
      // Without the entry's CRC-32, HDF5's own error:
      await assert.rejects(openHdf5File(content, file, DEFAULT_HDF5_LIMITS, later), (e: Error) => e instanceof InputError && !CRC_ERROR.test(e.message));
      const zipEntry = { archive: 'model.keras', name: 'model.weights.h5', crc32: crc32(h5) };
      await assert.rejects(openHdf5File({ ...content, zipEntry }, file, DEFAULT_HDF5_LIMITS, later), (e: Error) => e instanceof InputError && CRC_ERROR.test(e.message));
    });
  });

  /**
   * Datasets past HDF5's sieve buffer (64 KB), written by h5wasm: a float32 one with a NaN in its
   * second 256 KB chunk, a finite one, and an int32 one; and a small one, read through HDF5's memory.
   */
  async function largeDatasets(): Promise<{ file: string; start: number; length: number }> {
    const module = await loadH5wasm();
    const made = '/large-datasets.h5';
    const values = Float32Array.from({ length: 100_000 }, (_, i) => Math.sin(i));
    const withNaN = values.slice();
    withNaN[80_000] = NaN;
    const written = new h5wasm.File(made, 'w');
    written.create_dataset({ name: 'finite', data: values, shape: [250, 400] });
    written.create_dataset({ name: 'nan', data: withNaN, shape: [100_000] });
    written.create_dataset({ name: 'ints', data: Int32Array.from({ length: 50_000 }, (_, i) => i * 7 - 3), shape: [50_000] });
    written.create_dataset({ name: 'small', data: values.subarray(0, 10), shape: [10] });
    written.close();
    const bytes = (module.FS as unknown as { readFile(path: string): Uint8Array }).readFile(made);
    (module.FS as unknown as { unlink(path: string): void }).unlink(made);
    const file = path.join(tmp, 'large-datasets.bin');
    await writeFile(file, Buffer.concat([Buffer.alloc(300, 9), bytes]));
    return { file, start: 300, length: bytes.length };
  }
  /** Each dataset: whether HDF5 reads it whole from the file (landed), and readDataset's allFinite. */
  const LARGE_DATASETS = [['finite', true, true], ['nan', true, false], ['ints', true, undefined], ['small', false, true]] as const;

  it('reads a large contiguous dataset from the file straight into the caller\'s buffer, checking its values there, as HDF5 reads it', async () => {
    const { file, start, length } = await largeDatasets();
    const opened = await openHdf5File({ path: file, start, length }, file);
    try {
      const expected = (name: string) => opened.read((root) => Buffer.from(readTensor((root as Group).get(name) as Dataset, name).bytes).toString('hex'));
      for (const [name, landed, allFinite] of LARGE_DATASETS) {
        const before = landedReads.count;
        const read = opened.readDataset(name, name, (n) => new ArrayBuffer(n));
        assert.equal(landedReads.count - before, landed ? 1 : 0, `${name}: landed`);
        assert.equal(Buffer.from(read.bytes).toString('hex'), expected(name), name);
        assert.equal(read.allFinite, allFinite, `${name}: allFinite`);
      }
    } finally {
      opened.close();
    }
  });

  it('copies a dataset into ranges of existing files, landed or through HDF5\'s memory, checking float32 values on the way, and refuses ranges of another length', async () => {
    const { file, start, length } = await largeDatasets();
    const opened = await openHdf5File({ path: file, start, length }, file);
    const shards = [path.join(tmp, 'shard-a.bin'), path.join(tmp, 'shard-b.bin')];
    try {
      for (const [name, landed, allFinite] of LARGE_DATASETS) {
        const bytes = Buffer.from(opened.readDataset(name, name, (n) => new ArrayBuffer(n)).bytes);
        // The dataset's first 1,000 bytes (or a third) end shard a, the rest start shard b; the bytes around stay as they were.
        const split = Math.min(1000, Math.floor(bytes.length / 3));
        await writeFile(shards[0]!, Buffer.alloc(split + 17, 0xaa));
        await writeFile(shards[1]!, Buffer.alloc(bytes.length - split + 5, 0xbb));
        const ranges = [{ path: shards[0]!, position: 17, length: split }, { path: shards[1]!, position: 0, length: bytes.length - split }];
        const before = landedReads.count;
        const copied = opened.copyDataset(name, name, ranges);
        assert.equal(landedReads.count - before, landed ? 1 : 0, `${name}: landed`);
        assert.deepEqual(copied, { allFinite: allFinite === true }, `${name}: allFinite`);
        const [a, b] = [readFileSync(shards[0]!), readFileSync(shards[1]!)];
        assert.ok(a.subarray(0, 17).equals(Buffer.alloc(17, 0xaa)) && b.subarray(b.length - 5).equals(Buffer.alloc(5, 0xbb)), `${name}: bytes outside the ranges untouched`);
        assert.ok(Buffer.concat([a.subarray(17), b.subarray(0, b.length - 5)]).equals(bytes), `${name}: the dataset's bytes in the ranges`);
        assert.throws(() => opened.copyDataset(name, name, ranges.slice(1)), (e: Error) => e instanceof InputError && e.message === `${name}: ${bytes.length} bytes stored, where the converter expects ${bytes.length - split}.`);
      }
      // Files that are not there are not made, and a symbolic link in a file's place is not followed.
      const missing = path.join(tmp, 'no-such-shard.bin');
      assert.throws(() => opened.copyDataset('small', 'small', [{ path: missing, position: 0, length: 40 }]), /ENOENT/);
      assert.equal(existsSync(missing), false);
      const link = path.join(tmp, 'linked-shard.bin');
      symlinkSync(shards[0]!, link);
      const before = readFileSync(shards[0]!);
      assert.throws(() => opened.copyDataset('small', 'small', [{ path: link, position: 0, length: 40 }]), /ELOOP/);
      assert.ok(readFileSync(shards[0]!).equals(before));
    } finally {
      opened.close();
    }
  });

  it('refuses a range outside the file', async () => {
    await assert.rejects(withHdf5File({ path: FILE, start: 16, length: h5.length }, FILE, everyTensor), /bytes 16-\d+ lie outside its \d+ bytes/);
  });

  it('reads datasets one by one from an open file, into buffers the caller gives', async () => {
    const file = await embedded(Buffer.alloc(100, 3), Buffer.alloc(0));
    const opened = await openHdf5File({ path: file, start: 100 }, file);
    try {
      const buffers: ArrayBuffer[] = [];
      for (const [name, e] of Object.entries(EXPECTED)) {
        const { bytes } = opened.readDataset(name, name, (n) => {
          buffers.push(new ArrayBuffer(n + 16));
          return buffers.at(-1)!;
        });
        assert.equal(Buffer.from(bytes).toString('hex'), e.bytes);
        assert.equal(bytes.buffer, buffers.at(-1));
      }
    } finally {
      opened.close();
    }
  });
});

// The converter's NaN/Inf check of a .keras file's weights runs in the HDF5 reader, a chunk at a
// time as it copies each dataset (readInto; 256 KB chunks, 65,536 float32 values).
describe('float32 datasets are checked for NaN and ±Inf as they are copied', () => {
  const LENGTH = 200_000;
  async function fileWith(datasets: Record<string, Float32Array | Float64Array | Int32Array>): Promise<Uint8Array> {
    const module = await loadH5wasm();
    const written = `/written-${Object.keys(datasets).join('-')}.h5`;
    const file = new h5wasm.File(written, 'w');
    for (const [name, data] of Object.entries(datasets)) file.create_dataset({ name, data, shape: [data.length] });
    file.close();
    const bytes = (module.FS as unknown as { readFile(path: string): Uint8Array }).readFile(written);
    (module.FS as unknown as { unlink(path: string): void }).unlink(written);
    return bytes;
  }
  function read(h5: Uint8Array, names: string[]): Promise<Array<{ bytes: Uint8Array; allFinite?: boolean }>> {
    return openHdf5File({ bytes: h5 }, 'written.h5').then((opened) => {
      try {
        return names.map((name) => opened.readDataset(name, name, (n) => new ArrayBuffer(n)));
      } finally {
        opened.close();
      }
    });
  }

  it('finds a NaN, +Inf or -Inf wherever it lies (first value, either side of a chunk boundary, last value), and none among extreme finite values', async () => {
    const finite = new Float32Array(LENGTH).map((_, i) => [0, -0, 1.5e-45, -3.4028234663852886e38, 3.4028234663852886e38, 1.1754942e-38][i % 6]!);
    const datasets: Record<string, Float32Array> = { finite };
    for (const at of [0, 65_535, 65_536, 131_073, LENGTH - 1]) {
      for (const [label, value] of [['nan', NaN], ['inf', Infinity], ['ninf', -Infinity]] as const) {
        const data = finite.slice();
        data[at] = value;
        datasets[`${label}_${at}`] = data;
      }
    }
    const names = Object.keys(datasets);
    const results = await read(await fileWith(datasets), names);
    names.forEach((name, i) => {
      assert.equal(results[i]!.allFinite, name === 'finite', name);
      assert.deepEqual(new Float32Array(results[i]!.bytes.buffer, 0, LENGTH), datasets[name], `${name}: the bytes are copied unchanged`);
    });
  });

  it('says nothing for datasets that are not float32 (their values are cast and checked by the converter)', async () => {
    const results = await read(await fileWith({ f64: new Float64Array([1, NaN]), i32: new Int32Array([2147483647, -1]) }), ['f64', 'i32']);
    assert.deepEqual(results.map((r) => r.allFinite), [undefined, undefined]);
  });
});

describe("an open file's objects are looked up once (h5wasm's reader, KERAS_BRIDGE_HDF5_READER=h5wasm)", () => {
  before(() => {
    process.env[HDF5_READER_VARIABLE] = 'h5wasm';
  });
  after(() => {
    delete process.env[HDF5_READER_VARIABLE];
  });

  it("opening a .keras file's weights, walking them and reading every dataset asks HDF5 each object's kind at most once", async () => {
    // h5wasm resolves every call's path from the root (about 40 µs for get_type on ResNet50's
    // file): the structure check, the walks and the reads share the objects it opened.
    const file = path.join(REPO_ROOT, 'fixtures', 'keras', 'two_branch.keras');
    const archive = readKerasArchive(readFileSync(file), file);
    assert.ok('start' in archive.weightsH5, 'Keras stores model.weights.h5 uncompressed');
    const module = (await loadH5wasm()) as unknown as { get_type: (...args: unknown[]) => number };
    const getType = module.get_type;
    const asked = new Map<string, number>();
    module.get_type = (...args: unknown[]) => {
      asked.set(String(args[1]), (asked.get(String(args[1])) ?? 0) + 1);
      return getType.apply(module, args);
    };
    try {
      const opened = (await runHdf5Request({ kind: 'keras3-weights', content: { path: file, ...archive.weightsH5 }, file, modelConfig: archive.modelConfig, limits: DEFAULT_HDF5_LIMITS })) as Hdf5OpenResult;
      assert.ok(opened.weights.length >= 4);
      const read = (await runHdf5Request({ kind: 'read', paths: opened.weights.map((w) => w.path) })) as Hdf5ReadReply;
      assert.equal(read.bytes.length, opened.weights.length);
    } finally {
      module.get_type = getType;
      await runHdf5Request({ kind: 'close' });
    }
    const repeated = [...asked].filter(([, n]) => n > 1);
    assert.deepEqual(repeated, [], `asked more than once: ${repeated.map(([p, n]) => `${p} ${n}x`).join(', ')}`);
    assert.ok(asked.size > 0);
  });

  it("lists a group's attributes at most once and reads each attribute at most once (the layers' `vars` name tags are read by two walks)", async () => {
    const file = path.join(REPO_ROOT, 'fixtures', 'keras', 'two_branch.keras');
    const archive = readKerasArchive(readFileSync(file), file);
    assert.ok('start' in archive.weightsH5);
    const module = (await loadH5wasm()) as unknown as Record<'get_attribute_names' | 'get_attribute_data', (...args: unknown[]) => unknown>;
    const original = { names: module.get_attribute_names, data: module.get_attribute_data };
    const listed = new Map<string, number>();
    const read = new Map<string, number>();
    const count = (into: Map<string, number>, key: string) => into.set(key, (into.get(key) ?? 0) + 1);
    module.get_attribute_names = (...args: unknown[]) => (count(listed, String(args[1])), original.names.apply(module, args));
    module.get_attribute_data = (...args: unknown[]) => (count(read, `${String(args[1])} ${String(args[2])}`), original.data.apply(module, args));
    try {
      await runHdf5Request({ kind: 'keras3-weights', content: { path: file, ...archive.weightsH5 }, file, modelConfig: archive.modelConfig, limits: DEFAULT_HDF5_LIMITS });
    } finally {
      Object.assign(module, { get_attribute_names: original.names, get_attribute_data: original.data });
      await runHdf5Request({ kind: 'close' });
    }
    const repeated = [...listed, ...read].filter(([, n]) => n > 1);
    assert.deepEqual(repeated, [], `more than once: ${repeated.map(([p, n]) => `${p} ${n}x`).join(', ')}`);
    assert.ok([...read.keys()].some((key) => key.endsWith('/vars name')), `the name tags were read: ${[...read.keys()].join(', ')}`);
  });
});
