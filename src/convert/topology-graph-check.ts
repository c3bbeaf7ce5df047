import { InputError, UnsupportedLayerError } from '../errors.js';
import { TFJS_MODEL_NODE_OFFSET } from './functional-graph.js';

interface LayerEntry {
  name: string;
  className: string;
  inboundNodes: unknown[];
  nodeCount: number;
  index: number;
}

type NodeKey = `${number}:${number}`;

/**
 * Checks a functional model's graph (tfjs topology form) before tfjs-layers builds it: tfjs's
 * fromConfig retries nodes until their inputs exist, so a reference to a missing layer, a node
 * index past a layer's calls, a call without input tensors (tfjs makes no node of it, shifting the
 * layer's later node indices), or a cycle makes it loop forever. Every layer name is unique, every
 * inbound tensor names an existing layer and node, the model's inputs and outputs too, and the
 * node graph is acyclic. Nested models are checked the same way. Iterative, so bounded by the
 * config's size.
 */
export function checkTopologyGraph(topology: { class_name: string; config: Record<string, unknown> }, source: string): void {
  const pending: Array<{ config: Record<string, unknown>; where: string }> = [{ config: topology.config, where: `model '${String(topology.config['name'] ?? topology.class_name)}'` }];
  while (pending.length > 0) {
    const { config, where } = pending.pop()!;
    const layers = Array.isArray(config['layers']) ? (config['layers'] as unknown[]) : [];
    for (const layer of layers) {
      const inner = isRecord(layer) && isRecord(layer['config']) ? layer['config'] : undefined;
      if (inner && Array.isArray(inner['layers'])) pending.push({ config: inner, where: `${where} › layer '${String(inner['name'] ?? (layer as Record<string, unknown>)['name'])}'` });
    }
    const isFunctional = layers.some((l) => isRecord(l) && Array.isArray(l['inbound_nodes'])) || 'input_layers' in config;
    if (isFunctional) checkFunctionalGraph(config, layers, source, where);
  }
}

function checkFunctionalGraph(config: Record<string, unknown>, layers: unknown[], source: string, where: string): void {
  const byName = new Map<string, LayerEntry>();
  layers.forEach((layer, index) => {
    if (!isRecord(layer)) throw new InputError(`${source}: ${where}: layers[${index}] is not a layer object.`);
    const name = layer['name'] ?? (isRecord(layer['config']) ? layer['config']['name'] : undefined);
    if (typeof name !== 'string') throw new InputError(`${source}: ${where}: layers[${index}] has no name.`);
    if (byName.has(name)) throw new InputError(`${source}: ${where}: two layers are named '${name}' (layers[${byName.get(name)!.index}] and layers[${index}]); layer names must be unique.`);
    const className = String(layer['class_name'] ?? '');
    const inboundNodes = Array.isArray(layer['inbound_nodes']) ? (layer['inbound_nodes'] as unknown[]) : [];
    const isModel = isRecord(layer['config']) && Array.isArray(layer['config']['layers']);
    const nodeCount = className === 'InputLayer' ? 1 : inboundNodes.length + (isModel ? TFJS_MODEL_NODE_OFFSET : 0);
    byName.set(name, { name, className, inboundNodes, nodeCount, index });
  });
  const firstCalledNode = (entry: LayerEntry) => entry.nodeCount - entry.inboundNodes.length;
  /** Each node's inputs, as node keys (layer index:node index). */
  const dependencies = new Map<NodeKey, NodeKey[]>();
  for (const entry of byName.values()) {
    entry.inboundNodes.forEach((node, n) => {
      const field = `layer '${entry.name}', inbound_nodes[${n}]`;
      const refs = tensorRefs(node, `${source}: ${where}: ${field}`);
      // tfjs creates no node for a call without input tensors, so every later node index of the layer would shift.
      if (refs.length === 0) throw new InputError(`${source}: ${where}: ${field}: a call with no input tensors; every node of a functional model takes at least one.`);
      dependencies.set(`${entry.index}:${firstCalledNode(entry) + n}`, refs.map((ref, r) => nodeKeyOf(ref, byName, `${source}: ${where}: ${field}[${r}]`)));
    });
  }
  for (const field of ['input_layers', 'output_layers'] as const) {
    const value = config[field];
    if (value === undefined) continue;
    const refs = Array.isArray(value) ? ioRefs(value) : isRecord(value) ? Object.values(value).flatMap((v) => (Array.isArray(v) ? ioRefs(v) : [])) : [];
    refs.forEach((ref, r) => nodeKeyOf(ref, byName, `${source}: ${where}: ${field}[${r}]`));
  }
  refuseCycles(dependencies, byName, source, where);
  refuseOutOfOrderBuild(dependencies, byName, source, where);
}

/** Node attempts the build simulation may make: far more than any Keras-written order needs (one or two passes). */
const BUILD_SIMULATION_STEPS = 5_000_000;

/**
 * tfjs-layers' fromConfig builds a layer's calls as their inputs become available, passing over
 * config.layers in order until none is left, and numbers each call by when it was built, not by
 * its place in inbound_nodes. When a later call of a layer is ready in a pass where an earlier one
 * is not, the two swap, and every reference to those nodes reads the other call: a silently
 * miswired model. This replays those passes (on an acyclic graph they end) and refuses such an
 * order. Bounded: an order needing more than BUILD_SIMULATION_STEPS attempts is refused too.
 */
function refuseOutOfOrderBuild(dependencies: ReadonlyMap<NodeKey, NodeKey[]>, byName: ReadonlyMap<string, LayerEntry>, source: string, where: string): void {
  const entries = [...byName.values()];
  const built = entries.map((e) => e.nodeCount - e.inboundNodes.length);
  const parse = (key: NodeKey) => key.split(':').map(Number) as [number, number];
  let pending = entries.map((e) => e.inboundNodes.map((_, n) => ({ node: built[e.index]! + n, deps: (dependencies.get(`${e.index}:${built[e.index]! + n}`) ?? []).map(parse) })));
  let left = pending.reduce((sum, nodes) => sum + nodes.length, 0);
  let steps = 0;
  while (left > 0) {
    const next = pending.map(() => [] as (typeof pending)[number]);
    entries.forEach((entry, l) => {
      for (const call of pending[l]!) {
        if (++steps > BUILD_SIMULATION_STEPS) {
          throw new UnsupportedLayerError(`${source}: ${where}: tfjs-layers would need more than ${BUILD_SIMULATION_STEPS} attempts to build this layer graph in the order of config.layers.`);
        }
        if (!call.deps.every(([layer, node]) => built[layer]! > node)) {
          next[l]!.push(call);
          continue;
        }
        const as = built[l]!++;
        left--;
        if (as !== call.node) {
          throw new UnsupportedLayerError(
            `${source}: ${where}: layer '${entry.name}', inbound_nodes[${call.node - (entry.nodeCount - entry.inboundNodes.length)}]: tfjs-layers would build ` +
              `this call as node ${as} of the layer, not node ${call.node} (it builds calls as their inputs become available, ` +
              `passing over config.layers in order), so the converted model would be wired differently from the Keras model.`,
          );
        }
      }
    });
    pending = next;
  }
}

/** The [layer, node, tensor, …] references of one inbound node (tfjs writes a list of them). */
function tensorRefs(node: unknown, where: string): unknown[][] {
  if (!Array.isArray(node)) throw new InputError(`${where}: not a list of inbound tensors.`);
  return node.map((ref, i) => {
    if (!Array.isArray(ref)) throw new InputError(`${where}[${i}]: not an inbound tensor [layer, node index, tensor index].`);
    return ref;
  });
}

/** input_layers/output_layers: one [name, node, tensor] triple, or a list of them. */
function ioRefs(value: unknown[]): unknown[][] {
  return typeof value[0] === 'string' ? [value] : value.filter(Array.isArray);
}

function nodeKeyOf(ref: unknown[], byName: ReadonlyMap<string, LayerEntry>, where: string): NodeKey {
  const [name, nodeIndex, tensorIndex] = ref;
  if (typeof name !== 'string') throw new InputError(`${where}: the layer name is not a string.`);
  const layer = byName.get(name);
  if (!layer) throw new InputError(`${where}: refers to layer '${name.slice(0, 200)}', but the model has no layer of that name.`);
  if (!Number.isInteger(nodeIndex) || (nodeIndex as number) < 0 || (nodeIndex as number) >= layer.nodeCount) {
    throw new InputError(
      `${where}: node index ${JSON.stringify(nodeIndex)} of layer '${name}', which has ${layer.nodeCount} node${layer.nodeCount === 1 ? '' : 's'} ` +
        `(valid node indices: ${layer.nodeCount === 0 ? 'none' : `0 to ${layer.nodeCount - 1}`}).`,
    );
  }
  if (!Number.isInteger(tensorIndex) || (tensorIndex as number) < 0) {
    throw new InputError(`${where}: tensor index ${JSON.stringify(tensorIndex)} of layer '${name}' is not a non-negative integer.`);
  }
  return `${layer.index}:${nodeIndex as number}`;
}

/** Depth-first search with an explicit stack; a node met again while still open closes a cycle. */
function refuseCycles(dependencies: ReadonlyMap<NodeKey, NodeKey[]>, byName: ReadonlyMap<string, LayerEntry>, source: string, where: string): void {
  const names = [...byName.values()].map((e) => e.name);
  const state = new Map<NodeKey, 'open' | 'done'>();
  for (const start of dependencies.keys()) {
    if (state.has(start)) continue;
    const stack: Array<{ key: NodeKey; next: number }> = [{ key: start, next: 0 }];
    state.set(start, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const deps = dependencies.get(top.key) ?? [];
      if (top.next >= deps.length) {
        state.set(top.key, 'done');
        stack.pop();
        continue;
      }
      const dep = deps[top.next++]!;
      const seen = state.get(dep);
      if (seen === 'done') continue;
      if (seen === 'open') {
        const from = stack.findIndex((s) => s.key === dep);
        const cycle = [...stack.slice(from).map((s) => layerOf(s.key, names)), layerOf(dep, names)];
        throw new InputError(
          `${source}: ${where}: its layer graph has a cycle (${cycle.map((n) => `'${n}'`).join(' → ')}): inbound_nodes must ` +
            `form a directed acyclic graph, as Keras writes them.`,
        );
      }
      state.set(dep, 'open');
      stack.push({ key: dep, next: 0 });
    }
  }
}

function layerOf(key: NodeKey, names: readonly string[]): string {
  return names[Number(key.split(':')[0])]!;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
