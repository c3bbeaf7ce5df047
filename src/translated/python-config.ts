/**
 * A Python get_config() carried through model.json unchanged. tfjs rewrites layer configs on load
 * (snake_case keys and string values to camelCase) and on save (back to snake_case, lowercased), so
 * `"mode": "sum_All"` would not survive; a translated layer's own fields travel as one JSON string in
 * `keras_bridge_python_config`, escaped so that neither rewrite changes it: `%`, `_` and capitals
 * are written as %XX with lowercase hex digits.
 */
export const PYTHON_CONFIG_FIELD = 'keras_bridge_python_config';
/** Keras's names of a translated layer's sub-layers (SubLayerNames), encoded the same way. */
export const SUB_LAYERS_FIELD = 'keras_bridge_sub_layers';

export function encodePythonConfig(config: Record<string, unknown>): string {
  return JSON.stringify(config).replace(/[%_A-Z]/g, (c) => `%${c.charCodeAt(0).toString(16).toLowerCase()}`);
}

/** snake_case → camelCase as tfjs rewrites config keys and string values (tfjs-layers' toCamelCase). */
export function tfjsCamelCase(identifier: string): string {
  if (identifier.length <= 1 || !identifier.includes('_')) return identifier;
  return identifier.replace(/[_]+(\w|$)/g, (_m, c: string) => c.toUpperCase());
}

export function decodePythonConfig(text: string): Record<string, unknown> {
  return JSON.parse(decodeURIComponent(text)) as Record<string, unknown>;
}
