import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { translateLayer } from '../../src/convert/translate-layer.js';
import type { KerasObject } from '../../src/keras/keras-object.js';
import { FIXTURE_BUNDLES } from './paths.js';

/** The layers of zoo bundle fixtures/bundles/zoo/<family>/<model>, exactly as Keras serialized them. */
export function zooLayers(family: string, model: string): KerasObject[] {
  const config = JSON.parse(readFileSync(path.join(FIXTURE_BUNDLES, 'zoo', family, model, 'model.keras.json'), 'utf8')) as KerasObject;
  return config.config['layers'] as KerasObject[];
}

/** The one layer of class `className` in a zoo bundle. */
export function zooLayer(family: string, model: string, className: string): KerasObject {
  const layer = zooLayers(family, model).find((l) => l.class_name === className);
  if (!layer) throw new Error(`zoo bundle ${family}/${model} has no ${className} layer`);
  return layer;
}

/** Every bundle of a zoo family. */
export function zooModels(family: string): string[] {
  return readdirSync(path.join(FIXTURE_BUNDLES, 'zoo', family)).sort();
}

/** `layer` with `changes` merged into its config. */
export function withConfig(layer: KerasObject, changes: Record<string, unknown>): KerasObject {
  return { ...layer, config: { ...layer.config, ...changes } };
}

/** Every config field of every layer in a zoo family's bundles reaches tfjs or has a note. */
export function assertEveryFieldAccountedFor(family: string): void {
  for (const model of zooModels(family)) {
    for (const layer of zooLayers(family, model)) {
      const { tfjs, conversion } = translateLayer(layer, model);
      const noted = new Set(conversion.notes.map((n) => n.field));
      for (const field of Object.keys(layer.config)) {
        assert.ok(field in tfjs.config || noted.has(field), `${family}/${model}, layer '${layer.config['name']}': field '${field}' vanished without a note`);
      }
    }
  }
}
