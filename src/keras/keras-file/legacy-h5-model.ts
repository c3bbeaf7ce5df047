import { storedByteLength } from '../../convert/weight-values.js';
import type { StoredWeight } from './hdf5-tasks.js';
import { InputError } from '../../errors.js';
import type { KerasObject } from '../keras-object.js';
import { parseUntrustedJson } from '../json-limits.js';
import { childGroup, childObject, isDataset, tensorInfo, stringAttribute, stringListAttribute, type Group } from './hdf5-file.js';
import { modelConfigFromLegacy } from './legacy-model-config.js';

/** A legacy full-model `.h5` file, read: its config in Keras 3 form and its weights. */
export interface LegacyH5Model {
  modelConfig: KerasObject;
  weights: StoredWeight[];
  kerasVersion?: string;
}

/**
 * Reads what `model.save('x.h5')` writes (Keras 2, and Keras 3's legacy writer): the root
 * attribute `model_config` (JSON) and the group `model_weights`, whose attribute `layer_names` lists
 * the layers in `model.layers` order; each layer's group lists its weights in `layer.weights` order
 * in the attribute `weight_names`, each a dataset path below that group (`dense/kernel:0`).
 * `top_level_model_weights` holds weights of the model itself.
 */
export function readLegacyH5Model(root: Group, file: string): LegacyH5Model {
  const configText = stringAttribute(root, 'model_config', file);
  if (configText === undefined) {
    throw new InputError(
      `${file}: HDF5 file without a 'model_config' attribute: a weights-only file (model.save_weights) or not a ` +
        `Keras model. Save the whole model with model.save('model.keras') or model.save('model.h5').`,
    );
  }
  const raw = parseUntrustedJson(configText, `${file}: attribute 'model_config'`);
  const modelConfig = modelConfigFromLegacy(raw, file);
  const modelWeights = childGroup(root, 'model_weights');
  if (!modelWeights) throw new InputError(`${file}: no 'model_weights' group; the file holds a model config but no weights.`);
  const kerasVersion = stringAttribute(root, 'keras_version', file) ?? stringAttribute(modelWeights, 'keras_version', file);
  const layerNames = stringListAttribute(modelWeights, 'layer_names', `${file}: group 'model_weights'`);
  if (!layerNames) throw new InputError(`${file}: group 'model_weights' has no 'layer_names' attribute.`);
  const modelName = String(modelConfig.config['name'] ?? 'model');
  const groups = [...layerNames.map((name) => ({ layer: name, key: name })), { layer: modelName, key: 'top_level_model_weights' }];
  const weights = groups.flatMap(({ layer, key }) => layerWeights(modelWeights, key, layer, file));
  return { modelConfig, weights, ...(kerasVersion ? { kerasVersion } : {}) };
}

function layerWeights(modelWeights: Group, key: string, layer: string, file: string): StoredWeight[] {
  const group = childGroup(modelWeights, key);
  if (!group) {
    if (key === 'top_level_model_weights') return [];
    throw new InputError(`${file}: 'model_weights/layer_names' lists '${key}', but there is no group 'model_weights/${key}'.`);
  }
  const names = stringListAttribute(group, 'weight_names', `${file}: group 'model_weights/${key}'`) ?? [];
  return names.map((weightName, index) => {
    const path = `model_weights/${key}/${weightName}`;
    const dataset = childObject(group, weightName);
    if (!isDataset(dataset)) throw new InputError(`${file}: layer '${layer}' lists weight '${weightName}', but '${path}' is not a dataset.`);
    const info = tensorInfo(dataset, `${file}: '${path}'`);
    return { layer, index, name: shortWeightName(weightName), path, ...info, byteLength: storedByteLength(info.shape, info.dtype) };
  });
}

/** `sequential/dense/kernel` (Keras 3) or `dense/kernel:0` (Keras 2) → `kernel`. */
function shortWeightName(weightName: string): string {
  return weightName.split('/').pop()!.replace(/:\d+$/, '');
}
