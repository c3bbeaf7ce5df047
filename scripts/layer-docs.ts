import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
// tfjs's own classes must be snapshotted before keras-bridge registers its layers.
import {
  formatLayerSupportMarkdown,
  layerSupportTable,
  moduleClassLabel,
  tfjsRegisteredClassNames,
  type LayerEvidence,
} from '../src/convert/layer-support.js';
import type { KerasObject } from '../src/keras/keras-object.js';

const TFJS_BUILTINS = tfjsRegisteredClassNames();

/** docs/layers.md's content, from the translator registry, the zoo and fixtures/keras-layers.json. */
export async function renderLayerDocs(root: string): Promise<string> {
  const { translateLayer } = await import('../src/convert/translate-layer.js');
  const { isOperationNode } = await import('../src/convert/operation-translation.js');
  const { translatedModuleClasses } = await import('../src/convert/translator-registry.js');
  const moduleClasses = translatedModuleClasses();
  // A class registered by module is evidence under its module's label, not under its bare name.
  const evidenceKey = (layer: KerasObject): string => {
    const registered = moduleClasses.find((c) => c.module === layer.module && c.className === layer.class_name);
    return registered ? moduleClassLabel(registered) : layer.class_name;
  };
  const listing = JSON.parse(await readFile(path.join(root, 'fixtures', 'keras-layers.json'), 'utf8')) as {
    keras_version: string;
    layers: Record<string, string>;
  };
  const evidence = new Map<string, LayerEvidence>();
  const zoo = path.join(root, 'fixtures', 'bundles', 'zoo');
  for (const family of (await readdir(zoo)).sort()) {
    for (const model of (await readdir(path.join(zoo, family))).sort()) {
      const config = JSON.parse(await readFile(path.join(zoo, family, model, 'model.keras.json'), 'utf8')) as KerasObject;
      // Operation nodes (keras.ops on symbolic tensors) share class names with layers (Softmax, Add).
      for (const layer of modelLayers(config).filter((l) => !isOperationNode(l))) {
        const key = evidenceKey(layer);
        const seen = evidence.get(key) ?? { targets: new Set<string>(), models: [] };
        const { tfjs } = translateLayer(layer, `${family}/${model}`);
        seen.targets.add(tfjs.class_name);
        if (!seen.models.includes(`${family}/${model}`)) seen.models.push(`${family}/${model}`);
        evidence.set(key, seen);
      }
    }
  }
  const moduleLabels = moduleClasses.map(moduleClassLabel);
  return formatLayerSupportMarkdown(
    layerSupportTable(Object.keys(listing.layers), TFJS_BUILTINS, evidence),
    listing.keras_version,
    layerSupportTable(moduleLabels, TFJS_BUILTINS, evidence, new Set(moduleLabels)),
  );
}

/** Every layer of a model config, those of nested models and wrapped layers included. */
function modelLayers(model: KerasObject): KerasObject[] {
  const layers = (model.config['layers'] as KerasObject[] | undefined) ?? [];
  return layers.flatMap((layer) => {
    const wrapped = ['layer', 'backward_layer'].map((k) => layer.config[k]).filter((v): v is KerasObject => typeof v === 'object' && v !== null && 'class_name' in v);
    const nested = Array.isArray(layer.config['layers']) ? modelLayers(layer) : [];
    return [layer, ...wrapped, ...nested];
  });
}
