import { maskOnlyLayers } from '../convert/functional-graph.js';
import type { KerasObject } from '../keras/keras-object.js';

/** A tensor a layer is called on: [producing layer, its node, its output index], as Keras writes it. */
export type TensorRef = [layer: string, node: number, tensor: number];

/** How a layer is called the first time (inbound node 0). */
export interface LayerCall {
  inputs: TensorRef[];
  /**
   * Keras 3 passes masks explicitly; where tfjs computes them itself (Embedding, Masking), such
   * calls cannot be replayed alone. Other tensor kwargs (a mask input, initial_state, ...) are
   * inputs of the converted layer, after its positional ones, as functional-graph.ts orders them.
   */
  hasMask: boolean;
  /** Non-tensor keyword arguments (e.g. training). */
  kwargs: Record<string, unknown>;
  /** An operation node (x + y, keras.ops.*): it has no golden output of its own. */
  isOperation: boolean;
}

/** Every layer's first call, from a Keras 3 model config (Sequential or functional). */
export function layerCalls(model: KerasObject): Map<string, LayerCall> {
  const layers = (model.config['layers'] as KerasObject[] | undefined) ?? [];
  const calls = new Map<string, LayerCall>();
  if (model.class_name === 'Sequential') {
    // A Sequential passes masks implicitly: every layer after one that makes a mask may get one.
    let masked = false;
    layers.forEach((layer, i) => {
      const name = String(layer.config['name']);
      calls.set(name, { inputs: i === 0 ? [] : [[String(layers[i - 1]!.config['name']), 0, 0]], hasMask: masked, kwargs: {}, isOperation: false });
      masked ||= makesMask(layer);
    });
    return calls;
  }
  const propagatedMasks = maskOnlyLayers(layers, model.config['output_layers']);
  for (const entry of layers) {
    const name = String(entry['name'] ?? entry.config['name']);
    const node = (entry['inbound_nodes'] as Array<{ args?: unknown; kwargs?: Record<string, unknown> }> | undefined)?.[0];
    const kwargs: Record<string, unknown> = {};
    const kwargInputs: TensorRef[] = [];
    let hasMask = false;
    for (const [key, value] of Object.entries(node?.kwargs ?? {})) {
      const refs = tensorRefs(value);
      if (refs.length === 0) kwargs[key] = value;
      else if (key === 'mask' && refs.every(([source]) => propagatedMasks.has(source))) hasMask = true;
      else kwargInputs.push(...refs);
    }
    calls.set(name, {
      inputs: [...tensorRefs(node?.args ?? []), ...kwargInputs],
      hasMask,
      kwargs,
      isOperation: /^keras(\.src)?\.ops\./.test(entry.module ?? ''),
    });
  }
  return calls;
}

/**
 * For each layer, the layers whose outputs feed its first call. Operation nodes have no goldens
 * of their own, so a layer fed by one is credited with that node's inputs instead, recursively.
 */
export function layerInputs(model: KerasObject): Map<string, string[]> {
  const calls = layerCalls(model);
  const resolve = (name: string, seen: Set<string>): string[] => {
    const call = calls.get(name);
    if (!call?.isOperation || seen.has(name)) return [name];
    seen.add(name);
    return call.inputs.flatMap(([input]) => resolve(input, seen));
  };
  const resolved = new Map<string, string[]>();
  for (const [name, call] of calls) {
    resolved.set(name, [...new Set(call.inputs.flatMap(([input]) => resolve(input, new Set())))]);
  }
  return resolved;
}

/** "layer:node:tensor", to key maps by tensor. */
export function tensorKey([layer, node, tensor]: TensorRef): string {
  return `${layer}:${node}:${tensor}`;
}

/**
 * Every use of each tensor in the model, by tensorKey(): the name of the layer (or operation)
 * whose call reads it, once per reference and for every call, and '' for a model output.
 */
export function tensorUses(model: KerasObject): Map<string, string[]> {
  const layers = (model.config['layers'] as KerasObject[] | undefined) ?? [];
  const uses = new Map<string, string[]>();
  const use = (ref: TensorRef, by: string) => uses.set(tensorKey(ref), [...(uses.get(tensorKey(ref)) ?? []), by]);
  if (model.class_name === 'Sequential') {
    const names = layers.map((layer) => String(layer.config['name']));
    names.forEach((name, i) => use([name, 0, 0], names[i + 1] ?? ''));
    return uses;
  }
  for (const entry of layers) {
    const name = String(entry['name'] ?? entry.config['name']);
    for (const node of (entry['inbound_nodes'] as Array<{ args?: unknown; kwargs?: unknown }> | undefined) ?? []) {
      for (const ref of tensorRefs([node.args ?? [], Object.values((node.kwargs as Record<string, unknown> | undefined) ?? {})])) use(ref, name);
    }
  }
  for (const ref of outputRefs(model.config['output_layers'])) use(ref, '');
  return uses;
}

/** How many times each layer is called in the model (its inbound nodes; 1 in a Sequential). */
export function callCounts(model: KerasObject): Map<string, number> {
  const layers = (model.config['layers'] as KerasObject[] | undefined) ?? [];
  return new Map(
    layers.map((entry) => {
      const name = String(entry['name'] ?? entry.config['name']);
      const nodes = entry['inbound_nodes'] as unknown[] | undefined;
      return [name, model.class_name === 'Sequential' ? 1 : (nodes?.length ?? 0)];
    }),
  );
}

/** A functional config's output_layers: one [layer, node, tensor], or a list or dict of them. */
function outputRefs(value: unknown): TensorRef[] {
  if (Array.isArray(value)) return typeof value[0] === 'string' ? [value as TensorRef] : value.flatMap(outputRefs);
  return value !== null && typeof value === 'object' ? Object.values(value).flatMap(outputRefs) : [];
}

/** Keras layers that start a mask: Masking, and Embedding with mask_zero. */
function makesMask(layer: KerasObject): boolean {
  return layer.class_name === 'Masking' || (layer.class_name === 'Embedding' && layer.config['mask_zero'] === true);
}

function tensorRefs(value: unknown): TensorRef[] {
  if (Array.isArray(value)) return value.flatMap(tensorRefs);
  const ref = value as { class_name?: string; config?: { keras_history?: TensorRef } } | null;
  return ref?.class_name === '__keras_tensor__' && ref.config?.keras_history ? [ref.config.keras_history] : [];
}
