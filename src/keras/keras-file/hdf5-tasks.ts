import type { SourceWeight } from '../../convert/weight-source.js';
import type { KerasObject } from '../keras-object.js';
import { withLayerNames } from '../layer-names.js';
import { withHdf5File } from './hdf5-file.js';
import type { Hdf5Limits } from './hdf5-limits.js';
import { layerNameTags, weightsFromKeras3H5 } from './keras3-weights.js';
import { readLegacyH5Model, type LegacyH5Model } from './legacy-h5-model.js';

/** What reading a model's HDF5 part is asked to do: plain data in, plain data out (it runs in a worker). */
export type Hdf5Task =
  | { kind: 'keras3-weights'; bytes: Uint8Array; file: string; modelConfig: KerasObject; limits: Hdf5Limits }
  | { kind: 'legacy-model'; bytes: Uint8Array; file: string; limits: Hdf5Limits };

export type Hdf5TaskResult = { modelConfig: KerasObject; weights: SourceWeight[]; kerasVersion?: string };

/**
 * model.weights.h5 of a .keras file (its layers named from the weights' tags where the config has
 * no name, layer-names.ts), or a whole legacy .h5 model.
 */
export async function runHdf5Task(task: Hdf5Task): Promise<Hdf5TaskResult> {
  if (task.kind === 'legacy-model') {
    const model: LegacyH5Model = await withHdf5File({ bytes: task.bytes }, task.file, (root) => readLegacyH5Model(root, task.file), task.limits);
    return model;
  }
  const where = `${task.file}: model.weights.h5`;
  return withHdf5File({ bytes: task.bytes }, where, (root) => {
    const named = withLayerNames(task.modelConfig, layerNameTags(root, task.modelConfig, task.file));
    return { modelConfig: named, weights: weightsFromKeras3H5(root, named, task.file) };
  }, task.limits);
}
