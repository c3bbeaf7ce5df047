import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDataset, readTensor, withHdf5File } from '../../src/keras/keras-file/hdf5-file.js';
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
