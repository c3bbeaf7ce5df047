import { LayerConfigError, UnregisteredLayerError } from '../errors.js';
import type { KerasObject } from '../keras/keras-object.js';
import { formatZodPath } from '../keras/zod-issues.js';
import { usableCustomLayer } from '../registry/custom-layer-registry.js';
import { baseLayerFields } from './base-layer-fields.js';
import { copy, translateFields } from './field-rules.js';
import type { TranslationContext } from './translation-context.js';
import type { TfjsLayerConfig } from './translator-registry.js';
import { encodePythonConfig, PYTHON_CONFIG_FIELD, SUB_LAYERS_FIELD } from '../translated/python-config.js';

function pick(config: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, config[k]]));
}

/**
 * A custom layer: its Python get_config() is validated against the registered zod schema, then
 * passed to the TypeScript class with Keras's base fields translated and its own fields as is.
 */
export function translateCustomLayer(layer: KerasObject, context: TranslationContext): TfjsLayerConfig {
  const registration = usableCustomLayer(layer.class_name, layer.registered_name, context.options.translatedClasses);
  if (!registration) {
    const missing = { className: layer.class_name, registeredName: layer.registered_name ?? null, module: layer.module ?? null, layers: [context.layerName], fields: {} };
    throw new UnregisteredLayerError([missing], context.source);
  }
  const checked = registration.configSchema.safeParse(layer.config);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : formatZodPath(issue.path);
    const detail =
      issue.code === 'unrecognized_keys'
        ? `not in the schema registered for '${registration.className}' (the TypeScript layer would ignore it)`
        : `${issue.message} (schema registered for '${registration.className}')`;
    throw new LayerConfigError(context.source, context.layerName, field, detail);
  }
  if (registration.pythonConfig) {
    const subLayers = context.options.subLayerNames?.get(context.layerName);
    const own = Object.fromEntries(Object.entries(layer.config).filter(([field]) => !(field in baseLayerFields)));
    const base = pick(layer.config, Object.keys(layer.config).filter((field) => field in baseLayerFields));
    return {
      class_name: registration.className,
      config: {
        ...translateFields(base, baseLayerFields, context),
        [PYTHON_CONFIG_FIELD]: encodePythonConfig(own),
        ...(subLayers ? { [SUB_LAYERS_FIELD]: encodePythonConfig(subLayers) } : {}),
      },
    };
  }
  const ownFields = Object.fromEntries(
    Object.keys(layer.config)
      .filter((field) => !(field in baseLayerFields))
      .map((field) => [field, copy]),
  );
  return {
    class_name: registration.className,
    config: translateFields(layer.config, { ...baseLayerFields, ...ownFields }, context),
  };
}
