import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { isDataset, openHdf5File, readTensor, withHdf5File, type Dataset, type Group } from '../../src/keras/keras-file/hdf5-file.js';
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

  it('refuses a range outside the file', async () => {
    await assert.rejects(withHdf5File({ path: FILE, start: 16, length: h5.length }, FILE, everyTensor), /bytes 16-\d+ lie outside its \d+ bytes/);
  });

  it('reads datasets one by one from an open file, into buffers the caller gives', async () => {
    const file = await embedded(Buffer.alloc(100, 3), Buffer.alloc(0));
    const opened = await openHdf5File({ path: file, start: 100 }, file);
    try {
      const buffers: ArrayBuffer[] = [];
      for (const [name, e] of Object.entries(EXPECTED)) {
        const bytes = opened.readDataset(name, name, (n) => {
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
