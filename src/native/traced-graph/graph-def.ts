import { ProtoMessage } from './protobuf-writer.js';
import type { OpTrace, TracedAttr, TracedSource } from './op-trace.js';
import { TENSORFLOW_GRAPH_DEF_VERSION, TENSORFLOW_OP_INPUTS } from './tensorflow-op-inputs.generated.js';
import { TraceError } from './op-trace.js';
import { NODE_REWRITES, type NodeRewrite, type RewriteContext, type RewriteInput } from './node-rewrites.js';

const TF_INT32 = 3;

/** TF_AttrType, as TensorFlow's C API numbers it (the binding's TF_ATTR_* have these values). */
const ATTR = { string: 0, int: 1, float: 2, bool: 3, type: 4, shape: 5 } as const;

/** A traced graph's nodes as named in its GraphDef: what a SavedModel signature points at. */
export interface GraphNames {
  inputs: string[];
  outputs: string[];
}

/** The size of what was written: kept ops (those the outputs need), constants and their bytes, and the ops written as others (node-rewrites.ts), by the op written. */
export interface GraphDefSummary {
  ops: number;
  constants: number;
  constantBytes: number;
  rewrites: Record<string, number>;
}

export interface GraphDefOptions {
  /** Apply NODE_REWRITES (default true): ops written as the equivalent ones TensorFlow's optimizer fuses. */
  rewrite?: boolean;
}

/**
 * The trace as a TensorFlow GraphDef: a Placeholder per input (`input_<i>`), a Const per value
 * fixed at trace time, one node per op the outputs depend on (ops whose results went unused are
 * left out), and an Identity per output (`output_<i>`). Type and count attributes that eager
 * execution infers from the inputs, and a NodeDef must state, are filled in from TensorFlow's op
 * registry (tensorflow-op-inputs.generated.ts).
 */
export function graphDefOf(trace: OpTrace, options: GraphDefOptions = {}): { graph: ProtoMessage; names: GraphNames; summary: GraphDefSummary } {
  const graph = new ProtoMessage();
  const summary: GraphDefSummary = { ops: 0, constants: 0, constantBytes: 0, rewrites: {} };
  const nodeNames = new Map<number, string>();
  const context: RewriteContext = {
    tensor: (handle) => tensorOf(trace, handle),
    producer: (handle) => {
      const source = trace.sources.get(handle);
      return source?.kind === 'op' ? trace.nodes[source.node] : undefined;
    },
    int32Constant: (handle) => {
      const source = trace.sources.get(handle);
      if (source?.kind !== 'constant' || source.dtype !== TF_INT32) return undefined;
      return new Int32Array(source.bytes.buffer.slice(source.bytes.byteOffset, source.bytes.byteOffset + source.bytes.byteLength));
    },
  };
  const rewrites = trace.nodes.map((node) => (options.rewrite === false ? null : rewriteOf(node, context)));
  // Which nodes the outputs need, through the inputs each is written with (a rewrite may skip one).
  const needed = neededNodes(trace, (node, index) => {
    const rewritten = rewrites[index];
    return rewritten ? tracedHandles(rewritten, node.inputs) : node.inputs;
  });

  const inputNames = trace.inputs.map((input, index) => {
    const name = `input_${index}`;
    const shape = shapeProto(input.shape);
    graph.message(1, nodeDef(name, 'Placeholder', [], [
      ['dtype', new ProtoMessage().varint(6, input.dtype)],
      ['shape', new ProtoMessage().message(7, shape)],
    ]));
    return name;
  });

  const constantNames = new Map<number, string>();
  const tensorName = (handle: number): string => {
    const source = trace.sources.get(handle);
    if (!source) throw new TraceError(`the trace has no source for tensor handle ${handle}`);
    if (source.kind === 'input') return inputNames[source.index]!;
    if (source.kind === 'op') return source.output === 0 ? nodeNames.get(source.node)! : `${nodeNames.get(source.node)!}:${source.output}`;
    let name = constantNames.get(handle);
    if (!name) {
      name = `const_${constantNames.size}`;
      constantNames.set(handle, name);
      graph.message(1, constantNode(name, source));
      summary.constants += 1;
      summary.constantBytes += source.bytes.byteLength;
    }
    return name;
  };

  let rewriteConstants = 0;
  const writeNode = (name: string, op: string, tracedAttrs: TracedAttr[], inputs: Array<{ name: string; dtype: number }>) => {
    const attrs = new Map(tracedAttrs.map((attr) => [attr.name, attrValue(op, attr)]));
    inferInputAttrs(op, inputs.map((input) => input.dtype), tracedAttrs, attrs);
    graph.message(1, nodeDef(name, op, inputs.map((input) => input.name), [...attrs]));
    summary.ops += 1;
  };

  const tracedInput = (handle: number) => ({ name: tensorName(handle), dtype: tensorOf(trace, handle).dtype });
  trace.nodes.forEach((node, index) => {
    if (!needed.has(index)) return;
    const rewritten = rewrites[index];
    const op = rewritten?.op ?? node.op;
    const name = `op_${index}_${op}`;
    if (!rewritten) {
      writeNode(name, op, node.attrs, node.inputs.map(tracedInput));
      nodeNames.set(index, name);
      return;
    }
    const label = rewritten.as ?? rewritten.op;
    summary.rewrites[label] = (summary.rewrites[label] ?? 0) + 1;
    const steps: Array<{ name: string; dtype: number }> = [];
    const inputOf = (input: RewriteInput): { name: string; dtype: number } => {
      if (typeof input === 'number') return tracedInput(input);
      if ('step' in input) return steps[input.step]!;
      const constant = `const_rewrite_${rewriteConstants++}`;
      const bytes = new Uint8Array(Int32Array.from(input.int32).buffer);
      graph.message(1, constantNode(constant, { kind: 'constant', dtype: TF_INT32, shape: [input.int32.length], bytes }));
      summary.constants += 1;
      summary.constantBytes += bytes.byteLength;
      return { name: constant, dtype: TF_INT32 };
    };
    (rewritten.before ?? []).forEach((step, k) => {
      const stepName = `op_${index}_${k}_${step.op}`;
      writeNode(stepName, step.op, step.attrs, step.inputs.map(inputOf));
      steps.push({ name: stepName, dtype: step.dtype });
    });
    writeNode(name, op, rewritten.attrs, (rewritten.inputs ?? node.inputs).map(inputOf));
    nodeNames.set(index, name);
  });

  const outputNames = trace.outputs.map((output, index) => {
    const name = `output_${index}`;
    graph.message(1, nodeDef(name, 'Identity', [tensorName(output.handle)], [['T', new ProtoMessage().varint(6, output.dtype)]]));
    return name;
  });
  graph.message(4, new ProtoMessage().varint(1, TENSORFLOW_GRAPH_DEF_VERSION));
  return { graph, names: { inputs: inputNames, outputs: outputNames }, summary };
}

/** Indices of the nodes the outputs depend on. */
function neededNodes(trace: OpTrace, inputsOf: (node: OpTrace['nodes'][number], index: number) => number[]): Set<number> {
  const needed = new Set<number>();
  const pending = trace.outputs.map((output) => output.handle);
  while (pending.length > 0) {
    const source = trace.sources.get(pending.pop()!);
    if (source?.kind !== 'op' || needed.has(source.node)) continue;
    needed.add(source.node);
    pending.push(...inputsOf(trace.nodes[source.node]!, source.node));
  }
  return needed;
}

/** The traced tensors a rewritten node and its steps read. */
function tracedHandles(rewritten: NonNullable<ReturnType<NodeRewrite>>, tracedInputs: number[]): number[] {
  const inputs = [...(rewritten.before ?? []).flatMap((step) => step.inputs), ...(rewritten.inputs ?? tracedInputs)];
  return inputs.filter((input): input is number => typeof input === 'number');
}

function rewriteOf(node: OpTrace['nodes'][number], context: RewriteContext): ReturnType<NodeRewrite> {
  for (const rewrite of NODE_REWRITES) {
    const change = rewrite(node, context);
    if (change) return change;
  }
  return null;
}

/** A traced tensor's TF_DataType and shape, wherever it comes from. */
function tensorOf(trace: OpTrace, handle: number): { dtype: number; shape: number[] } {
  const source = trace.sources.get(handle);
  if (!source) throw new TraceError(`the trace has no source for tensor handle ${handle}`);
  if (source.kind === 'input') return trace.inputs[source.index]!;
  if (source.kind === 'constant') return source;
  return trace.nodes[source.node]!.outputs[source.output]!;
}

/**
 * Sets the attributes eager execution infers and a GraphDef needs: the type attribute of each
 * typed input argument, the count of a repeated one, the types of a list. Attributes the trace
 * already has are kept as they are.
 */
function inferInputAttrs(op: string, inputTypes: number[], traced: TracedAttr[], attrs: Map<string, ProtoMessage>): void {
  const args = TENSORFLOW_OP_INPUTS[op];
  if (!args) return;
  const given = new Map(traced.map((a) => [a.name, a.value]));
  let at = 0;
  for (const arg of args) {
    if (arg.startsWith('[')) {
      const listAttr = arg.slice(1, -1);
      const length = Array.isArray(given.get(listAttr)) ? (given.get(listAttr) as unknown[]).length : args.length === 1 ? inputTypes.length - at : undefined;
      if (length === undefined) throw new TraceError(`op ${op}: cannot tell how many inputs its list '${listAttr}' takes (the trace gives no '${listAttr}')`);
      if (!attrs.has(listAttr)) attrs.set(listAttr, new ProtoMessage().message(1, new ProtoMessage().packedVarints(6, inputTypes.slice(at, at + length))));
      at += length;
    } else if (arg.includes('*')) {
      const [numberAttr, typeAttr] = arg.split('*') as [string, string];
      const count = given.get(numberAttr);
      if (typeof count !== 'number') throw new TraceError(`op ${op}: the trace gives no count '${numberAttr}' for its repeated input`);
      if (typeAttr && !attrs.has(typeAttr) && count > 0) attrs.set(typeAttr, new ProtoMessage().varint(6, inputTypes[at]!));
      at += count;
    } else {
      if (arg && !attrs.has(arg) && at < inputTypes.length) attrs.set(arg, new ProtoMessage().varint(6, inputTypes[at]!));
      at += 1;
    }
  }
}

function nodeDef(name: string, op: string, inputs: string[], attrs: Array<[string, ProtoMessage]>): ProtoMessage {
  const node = new ProtoMessage().string(1, name).string(2, op);
  for (const input of inputs) node.string(3, input);
  for (const [key, value] of attrs) node.mapEntry(5, key, value);
  return node;
}

function constantNode(name: string, source: Extract<TracedSource, { kind: 'constant' }>): ProtoMessage {
  const tensor = new ProtoMessage().varint(1, source.dtype).message(2, shapeProto(source.shape)).bytes(4, source.bytes);
  return nodeDef(name, 'Const', [], [
    ['dtype', new ProtoMessage().varint(6, source.dtype)],
    ['value', new ProtoMessage().message(8, tensor)],
  ]);
}

function shapeProto(shape: readonly number[]): ProtoMessage {
  const proto = new ProtoMessage();
  for (const size of shape) proto.message(2, new ProtoMessage().varint(1, size));
  return proto;
}

/** An attribute as an AttrValue message, by its C API type; lists where the value is an array. */
function attrValue(op: string, attr: TracedAttr): ProtoMessage {
  const value = attr.value;
  const list = Array.isArray(value);
  const values = (list ? value : [value]) as unknown[];
  const proto = new ProtoMessage();
  const item = list ? new ProtoMessage() : proto;
  switch (attr.type) {
    case ATTR.string:
      for (const s of values) item.string(2, String(s));
      break;
    case ATTR.int:
      if (list) item.packedVarints(3, values as number[]);
      else item.varint(3, value as number);
      break;
    case ATTR.float:
      if (list) item.packedFloats(4, values as number[]);
      else item.float(4, value as number);
      break;
    case ATTR.bool:
      if (list) item.packedVarints(5, values as boolean[]);
      else item.varint(5, value as boolean);
      break;
    case ATTR.type:
      if (list) item.packedVarints(6, values as number[]);
      else item.varint(6, value as number);
      break;
    case ATTR.shape:
      // tfjs-node passes one shape as its list of sizes.
      return proto.message(7, shapeProto(values as number[]));
    default:
      throw new TraceError(`op ${op}: attribute '${attr.name}' has a kind (TF_AttrType ${attr.type}) a traced graph does not write`);
  }
  if (list) proto.message(1, item);
  return proto;
}
