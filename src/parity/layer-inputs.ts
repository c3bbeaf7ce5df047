import type { KerasObject } from '../keras/keras-object.js';

/**
 * For each layer of a Keras 3 model config, the layers whose outputs feed its first call
 * (inbound node 0). Operation nodes (`x + y`, keras.ops.*) have no goldens of their own, so a
 * layer fed by one is credited with that node's inputs instead, recursively.
 */
export function layerInputs(model: KerasObject): Map<string, string[]> {
  const layers = (model.config['layers'] as KerasObject[] | undefined) ?? [];
  const direct = new Map<string, string[]>();
  if (model.class_name === 'Sequential') {
    const names = layers.map((l) => String(l.config['name']));
    names.forEach((name, i) => direct.set(name, i === 0 ? [] : [names[i - 1]!]));
    return direct;
  }
  const operations = new Set<string>();
  for (const entry of layers) {
    const name = String(entry['name'] ?? entry.config['name']);
    if (/^keras(\.src)?\.ops\./.test(entry.module ?? '')) operations.add(name);
    const nodes = entry['inbound_nodes'] as Array<{ args?: unknown }> | undefined;
    direct.set(name, historyNames(nodes?.[0]?.args ?? []));
  }
  const resolve = (name: string, seen: Set<string>): string[] => {
    if (!operations.has(name) || seen.has(name)) return [name];
    seen.add(name);
    return (direct.get(name) ?? []).flatMap((input) => resolve(input, seen));
  };
  const resolved = new Map<string, string[]>();
  for (const [name, inputs] of direct) resolved.set(name, [...new Set(inputs.flatMap((i) => resolve(i, new Set())))]);
  return resolved;
}

function historyNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(historyNames);
  const ref = value as { class_name?: string; config?: { keras_history?: [string, number, number] } } | null;
  return ref?.class_name === '__keras_tensor__' && ref.config?.keras_history ? [ref.config.keras_history[0]] : [];
}
