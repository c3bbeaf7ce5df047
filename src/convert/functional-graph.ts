import { InputError, UnsupportedLayerError } from '../errors.js';
import type { TensorKwarg } from '../layers/keras3/call-arguments.js';
import type { FieldNote } from './conversion-report.js';

/** One inbound tensor in tfjs's node format: [layer name, node index, tensor index, call kwargs]. */
type TfjsInboundTensor = [string, number, number, Record<string, unknown>];

interface KerasTensorRef {
  class_name: '__keras_tensor__';
  config: { keras_history: [string, number, number] };
}

function isKerasTensorRef(value: unknown): value is KerasTensorRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { class_name?: unknown }).class_name === '__keras_tensor__'
  );
}

const MASK_KWARG = 'mask';

/**
 * Layers whose outputs are used only as `mask` keyword arguments (Keras 3 writes the mask of
 * Embedding(mask_zero=True) as an explicit NotEqual operation node, Masking's as NotEqual and
 * Any). tfjs computes these masks itself, so these nodes are not converted. A model input is never
 * one of them: a bool input passed as `mask=` is a mask tfjs cannot propagate.
 */
export function maskOnlyLayers(entries: ReadonlyArray<Record<string, unknown>>, outputLayers: unknown): Set<string> {
  const usedAsMask = new Set<string>();
  const usedOtherwise = new Set<string>();
  for (const entry of entries) {
    if (entry['class_name'] === 'InputLayer') usedOtherwise.add(entryName(entry));
    for (const node of (entry['inbound_nodes'] as Array<{ args?: unknown; kwargs?: Record<string, unknown> }> | undefined) ?? []) {
      const args: KerasTensorRef[] = [];
      collectTensors(node.args ?? [], args);
      args.forEach((t) => usedOtherwise.add(t.config.keras_history[0]));
      for (const [key, value] of Object.entries(node.kwargs ?? {})) {
        const refs: KerasTensorRef[] = [];
        collectTensors(value, refs);
        refs.forEach((t) => (key === MASK_KWARG ? usedAsMask : usedOtherwise).add(t.config.keras_history[0]));
      }
    }
  }
  const outputs = JSON.stringify(outputLayers ?? []);
  const candidates = new Set([...usedAsMask].filter((name) => !usedOtherwise.has(name) && !outputs.includes(JSON.stringify(name))));
  // Left to tfjs only when tfjs propagates them itself (maskRoots).
  const byName = new Map(entries.map((e) => [entryName(e), e]));
  const readByMaskSources = new Set(entries.filter(isMaskSource).flatMap(positionalSources));
  return new Set([...candidates].filter((name) => [...maskRoots(name, byName, candidates)].some((root) => readByMaskSources.has(root))));
}

/**
 * The tensors the mask nodes ending at `name` start from, walking up through operation nodes. Mask
 * nodes are what tfjs propagates by itself when a mask-making layer also reads one of these
 * (Embedding with mask_zero and Masking, whose masks Keras writes as NotEqual/Any nodes on their
 * own input; a custom layer, which may compute one). Otherwise the user computed the mask
 * (`ops.not_equal(ids, 0)` with mask_zero off): tfjs would not propagate it, so it must be
 * converted and passed explicitly.
 */
function maskRoots(name: string, byName: ReadonlyMap<string, Record<string, unknown>>, maskNodes: ReadonlySet<string>): Set<string> {
  const roots = new Set<string>();
  const pending = [name];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const source of positionalSources(byName.get(current))) {
      if (maskNodes.has(source) || isOperationNode(byName.get(source))) pending.push(source);
      else roots.add(source);
    }
  }
  return roots;
}

/** The layers whose outputs a layer's calls take as positional arguments. */
function positionalSources(entry: Record<string, unknown> | undefined): string[] {
  return ((entry?.['inbound_nodes'] as Array<{ args?: unknown }> | undefined) ?? []).flatMap((node) => {
    const refs: KerasTensorRef[] = [];
    collectTensors(node.args ?? [], refs);
    return refs.map((t) => t.config.keras_history[0]);
  });
}

function entryName(entry: Record<string, unknown>): string {
  return String(entry['name'] ?? (entry['config'] as { name?: unknown } | undefined)?.name);
}

/** A Keras operation node (`x + y`, `ops.not_equal`), not a layer. */
function isOperationNode(entry: Record<string, unknown> | undefined): boolean {
  return typeof entry?.['module'] === 'string' && (entry['module'] as string).startsWith('keras.src.ops');
}

/** Layers that make a mask from their input: Embedding(mask_zero=True), Masking, and any custom layer (it may). */
function isMaskSource(entry: Record<string, unknown>): boolean {
  const config = (entry['config'] as Record<string, unknown> | undefined) ?? {};
  if (entry['class_name'] === 'Masking') return true;
  if (entry['class_name'] === 'Embedding') return config['mask_zero'] === true;
  const module = entry['module'];
  return !(typeof module === 'string' && module.startsWith('keras'));
}

/** Every Keras tensor in a node's call arguments, in argument order (lists flattened). */
function collectTensors(value: unknown, into: KerasTensorRef[]): void {
  if (isKerasTensorRef(value)) into.push(value);
  else if (Array.isArray(value)) value.forEach((item) => collectTensors(item, into));
}

/**
 * Keras 3's inbound nodes have the shape the graph code reads, checked once before it reads them:
 * each node an `{args: [...], kwargs: {...}}` object, each Keras tensor in it (at any depth) a
 * `{class_name: '__keras_tensor__', config: {keras_history: [layer name, node index, tensor index]}}`.
 */
export function checkKerasNodes(entries: ReadonlyArray<Record<string, unknown>>, source: string): void {
  for (const entry of entries) {
    const nodes = entry['inbound_nodes'];
    if (nodes === undefined || nodes === null) continue;
    const layer = entryName(entry).slice(0, 200);
    if (!Array.isArray(nodes)) throw new InputError(`${source}: layer '${layer}', field 'inbound_nodes' is not a list.`);
    nodes.forEach((node: unknown, n) => {
      const where = `${source}: layer '${layer}', field 'inbound_nodes[${n}]'`;
      if (!isPlainObject(node) || !Array.isArray(node['args'])) throw new InputError(`${where}: expected Keras 3's {args, kwargs} node form.`);
      if (node['kwargs'] !== undefined && node['kwargs'] !== null && !isPlainObject(node['kwargs'])) throw new InputError(`${where}.kwargs: not a dict.`);
      const pending: Array<[unknown, string]> = [[node['args'], `${where}.args`], [node['kwargs'] ?? {}, `${where}.kwargs`]];
      while (pending.length > 0) {
        const [value, at] = pending.pop()!;
        if (isKerasTensorRef(value)) checkKerasHistory(value, at);
        else if (Array.isArray(value)) value.forEach((v, i) => pending.push([v, `${at}[${i}]`]));
        else if (isPlainObject(value)) Object.entries(value).forEach(([k, v]) => pending.push([v, `${at}.${k.slice(0, 100)}`]));
      }
    });
  }
}

function checkKerasHistory(tensor: unknown, where: string): void {
  const config = (tensor as { config?: unknown }).config;
  const history = isPlainObject(config) ? config['keras_history'] : undefined;
  const valid =
    Array.isArray(history) &&
    history.length >= 3 &&
    typeof history[0] === 'string' &&
    Number.isSafeInteger(history[1]) &&
    Number.isSafeInteger(history[2]); // their ranges: the graph check (topology-graph-check.ts), which knows the layers
  if (!valid) {
    throw new InputError(`${where}: a Keras tensor whose config.keras_history is not [layer name, node index, tensor index] (${String(JSON.stringify(history)).slice(0, 200)}).`);
  }
}

/** tfjs's camelCase name for a Keras call kwarg, the name tfjs layers read (`initial_state` → `initialState`). */
export function tfjsKwargName(kerasName: string): string {
  return kerasName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A layer's inbound nodes in tfjs's form, and the tensor kwargs that became extra inputs of each node. */
export interface FunctionalNodes {
  nodes: TfjsInboundTensor[][];
  /** Tensor-valued call kwargs, the same at every node (empty when there are none). */
  tensorKwargs: TensorKwarg[];
  /** How many tensors the call's positional arguments hold (the adapter's split point). */
  positionalArguments: number;
}

/**
 * tfjs-layers 4.22 runs a model through executor.execute(), which hands every layer the kwargs of
 * the model call (`{training: true}` in fit(), none in predict()) and never a node's own kwargs
 * (Container.runInternalGraph reads them, but only to compute masks). Keras 3 likewise lets the
 * call's flag override the one recorded in the node (Functional's operation_fn; measured with
 * Keras 3.15.1: BatchNormalization()(x, training=False) normalizes by the batch under
 * model(x, training=True), Dropout()(x, training=True) drops nothing in predict()); only a Keras
 * model called with training unset, `model(x)`, applies the recorded value.
 */
const TRAINING_KWARG =
  "not applied: tfjs-layers gives every layer the model call's training flag (inference in predict(), training in fit()) " +
  "and never reads a node's; Keras 3 also lets the call's flag override the recorded one in predict(), fit() and " +
  'model(x, training=...), so the converted model computes what Keras does there. Only a Keras model called with ' +
  'training unset, model(x), applies it';

/** Other non-tensor call kwargs: tfjs keeps them on the node but does not hand them to call() either. */
const PLAIN_KWARGS =
  "kept on the tfjs node (Keras 2's form), but tfjs-layers does not pass a node's call kwargs to call() when it runs " +
  'the model: the layer computes with its own default for them, unless its translator moved them into its config (noted)';

/**
 * Keras 3 writes each inbound node as `{args: [...keras tensors...], kwargs: {...}}`; tfjs-layers
 * (like Keras 2) wants a list of `[layer, node, tensor, kwargs]`. Plain kwargs travel with each
 * tensor, except `training`, which tfjs would not apply (TRAINING_KWARG). A `mask` computed by a
 * mask-only layer (`propagatedMasks`) is dropped: tfjs propagates it itself. Any other tensor kwarg (a bool input as `mask=`, `initial_state=`,
 * `attention_mask=`, a custom layer's tensor argument) is appended to the node's inputs, after the
 * positional ones, for a CallArguments adapter to hand back to the layer (translate-model.ts).
 */
export function translateFunctionalNodes(
  nodes: unknown,
  source: string,
  layerName: string,
  notes: FieldNote[],
  nodeOffset: (layerName: string) => number,
  propagatedMasks: ReadonlySet<string> = new Set(),
): FunctionalNodes {
  if (nodes === undefined || nodes === null) return { nodes: [], tensorKwargs: [], positionalArguments: 0 };
  if (!Array.isArray(nodes)) {
    throw new InputError(`${source}: layer '${layerName}', field 'inbound_nodes' is not a list.`);
  }
  const signatures: string[] = [];
  let tensorKwargs: TensorKwarg[] = [];
  let positionalArguments = 0;
  const toTfjs = (plainKwargs: Record<string, unknown>) => (t: KerasTensorRef): TfjsInboundTensor => {
    const [name, node, tensor] = t.config.keras_history;
    return [name, node + nodeOffset(name), tensor, plainKwargs];
  };
  const translated = nodes.map((node, nodeIndex) => {
    const where = `${source}: layer '${layerName}', field 'inbound_nodes[${nodeIndex}]'`;
    if (typeof node !== 'object' || node === null || !Array.isArray((node as { args?: unknown }).args)) {
      throw new InputError(`${where}: expected Keras 3's {args, kwargs} node form.`);
    }
    const args = (node as { args: unknown[] }).args;
    const kwargs = (node as { kwargs?: Record<string, unknown> | null }).kwargs ?? {};
    const plainKwargs: Record<string, unknown> = {};
    const kwargTensors: KerasTensorRef[] = [];
    const nodeKwargs: TensorKwarg[] = [];
    for (const [key, value] of Object.entries(kwargs)) {
      const nested: KerasTensorRef[] = [];
      collectTensors(value, nested);
      if (nested.length === 0) {
        plainKwargs[key] = value;
        continue;
      }
      const sources = nested.map((t) => t.config.keras_history[0]);
      if (key === MASK_KWARG && sources.every((name) => propagatedMasks.has(name))) {
        notes.push({
          field: `inbound_nodes[${nodeIndex}].kwargs.mask`,
          action: 'dropped',
          reason: 'tfjs-layers propagates masks itself (computeMask from Embedding/Masking); parity checks the outputs agree',
          from: sources,
        });
        continue;
      }
      kwargTensors.push(...nested);
      nodeKwargs.push({ keras: key, call: tfjsKwargName(key), count: nested.length, list: Array.isArray(value) });
      notes.push({
        field: `inbound_nodes[${nodeIndex}].kwargs.${key}`,
        action: 'changed',
        reason: 'a tensor call argument: an extra input of a KerasBridgeCallArguments adapter, which passes it to the layer\'s call()',
        from: sources,
        to: `${tfjsKwargName(key)} in call() kwargs`,
      });
    }
    if ('training' in plainKwargs) {
      notes.push({ field: `inbound_nodes[${nodeIndex}].kwargs.training`, action: 'dropped', reason: TRAINING_KWARG, from: plainKwargs['training'] });
      delete plainKwargs['training'];
    }
    if (Object.keys(plainKwargs).length > 0) {
      notes.push({ field: `inbound_nodes[${nodeIndex}].kwargs`, action: 'changed', reason: PLAIN_KWARGS, from: plainKwargs, to: plainKwargs });
    }
    const tensors: KerasTensorRef[] = [];
    collectTensors(args, tensors);
    signatures.push(JSON.stringify([tensors.length, nodeKwargs]));
    if (signatures[0] !== signatures[nodeIndex]) {
      throw new UnsupportedLayerError(
        `${where}: this call passes different tensor arguments (${signatures[nodeIndex]}) than the layer's first call (${signatures[0]}); ` +
          `keras-bridge converts a shared layer only when every call passes the same tensor keyword arguments. Call separate layers instead.`,
      );
    }
    tensorKwargs = nodeKwargs;
    positionalArguments = tensors.length;
    return [...tensors, ...kwargTensors].map(toTfjs(plainKwargs));
  });
  return { nodes: translated, tensorKwargs, positionalArguments };
}

/**
 * `input_layers`/`output_layers`: Keras 3 writes one [name, node, tensor] triple bare, a list of
 * them, or a dict of them (`keras.Model({"token_ids": ...}, {"logits": ...})`). tfjs-layers takes
 * lists: a dict is flattened in Keras's own order (keras.tree: keys sorted), which is the order of
 * the bundle's inputs, outputs and goldens.
 */
export function translateIoList(
  value: unknown,
  source: string,
  field: string,
  nodeOffset: (layerName: string) => number,
): unknown[][] {
  const triples = ioTriples(value, source, field);
  return triples.map(([name, node, tensor]) => [name, node + nodeOffset(name), tensor]);
}

function ioTriples(value: unknown, source: string, field: string): [string, number, number][] {
  if (isPlainObject(value)) return dictKeys(value).flatMap((key) => ioTriples(value[key], source, `${field}.${key}`));
  if (!Array.isArray(value)) throw new InputError(`${source}: model config field '${field}' is missing or not a list or dict.`);
  return typeof value[0] === 'string' ? [value as [string, number, number]] : value.flatMap((v) => ioTriples(v, source, field));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A dict's keys in keras.tree's flattening order (sorted, as Python sorts strings by code point). */
export function dictKeys(value: Record<string, unknown>): string[] {
  return Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The keys of a dict `input_layers`/`output_layers`, in the flattened order; null for a list. */
export function ioKeys(value: unknown): string[] | null {
  return isPlainObject(value) ? dictKeys(value) : null;
}

/**
 * tfjs-layers, like Keras 2, gives every model its own node 0 (its inputs to its outputs), so a
 * model used as a layer is first *called* at node 1; Keras 3 counts that first call as node 0.
 */
export const TFJS_MODEL_NODE_OFFSET = 1;
