import tf from '#tfjs';
import { isTensorflowBackend, type TensorflowKernelBackend } from '../../backends/kernel-fixes/tensorflow-op.js';

/** An attribute as tfjs-node hands it to TensorFlow's eager C API (binding.executeOp). */
export interface TracedAttr {
  name: string;
  /** TF_AttrType: the binding's TF_ATTR_* constants. */
  type: number;
  value: unknown;
}

/** A tensor the trace saw, by the binding's handle, with its TF_DataType and shape. */
export interface TracedTensor {
  handle: number;
  dtype: number;
  shape: number[];
}

/** Where a handle's value comes from in the graph. */
export type TracedSource =
  | { kind: 'input'; index: number }
  /** Values fixed when traced: weights, shapes, scalars made on the host. */
  | { kind: 'constant'; dtype: number; shape: number[]; bytes: Uint8Array }
  | { kind: 'op'; node: number; output: number };

/** One TensorFlow op the traced function ran, as tfjs-node asked for it. */
export interface TracedNode {
  op: string;
  attrs: TracedAttr[];
  inputs: number[];
  outputs: TracedTensor[];
}

/** The TensorFlow ops a function ran on the tensorflow backend, from its inputs to its outputs. */
export interface OpTrace {
  nodes: TracedNode[];
  sources: Map<number, TracedSource>;
  inputs: TracedTensor[];
  outputs: TracedTensor[];
}

/** Why a function cannot be one graph: it did something on the host with a value computed from its inputs. */
export class TraceError extends Error {
  override name = 'TraceError';
}

type Binding = TensorflowKernelBackend['binding'] & {
  tensorDataSync(handle: number): ArrayLike<number | bigint> & ArrayBufferView;
};
interface OutputMetadata {
  id: number;
  shape: number[];
  dtype: number;
}

/**
 * Runs `run` on the tensorflow backend and records every TensorFlow op it dispatches through
 * tfjs-node's binding (kernels of tfjs-node, keras-bridge's kernel fixes and TypeScript layers
 * alike), with where each input comes from: one of `inputs`, an op run before, or a value that
 * does not depend on the inputs (a weight, a shape), copied. Throws TraceError when a kernel reads
 * a value computed from the inputs back to the host: what it does next with it is not a graph.
 * Returns `run`'s outputs too, computed op by op, to check the graph against.
 */
export function traceTensorflowOps(inputs: readonly tf.Tensor[], run: () => tf.Tensor[]): { trace: OpTrace; outputs: tf.Tensor[] } {
  const backend = tf.backend();
  if (!isTensorflowBackend(backend)) throw new TraceError(`tracing a native graph needs the tensorflow backend (the active one is ${tf.getBackend()})`);
  const binding = backend.binding as Binding;
  const sources = new Map<number, TracedSource>();
  const dependsOnInputs = new Set<number>();
  const nodes: TracedNode[] = [];
  const known = new Map<number, TracedTensor>();

  const inputHandles = backend.getInputTensorIds([...inputs]);
  const tracedInputs = inputHandles.map((handle, index) => {
    const tensor: TracedTensor = { handle, dtype: tfDtype(binding, inputs[index]!.dtype), shape: [...inputs[index]!.shape] };
    if (sources.has(handle)) throw new TraceError(`input ${index} is the same tensor as input ${(sources.get(handle) as { index: number }).index}; pass distinct tensors`);
    sources.set(handle, { kind: 'input', index });
    dependsOnInputs.add(handle);
    known.set(handle, tensor);
    return tensor;
  });

  // A handle made before the trace (a weight tfjs-node already holds, a kept operand): its value,
  // dtype and shape, asked of TensorFlow (an Identity gives the metadata).
  const captureExisting = (handle: number): void => {
    if (sources.has(handle)) return;
    const [meta] = binding.executeOp('Identity', [], [handle], 1) as OutputMetadata[];
    binding.deleteTensor(meta!.id);
    const values = binding.tensorDataSync(handle);
    sources.set(handle, { kind: 'constant', dtype: meta!.dtype, shape: meta!.shape, bytes: copyBytes(values) });
    known.set(handle, { handle, dtype: meta!.dtype, shape: meta!.shape });
  };

  const standIn = Object.create(binding, {
    executeOp: {
      value: (op: string, attrs: TracedAttr[], inputIds: number[], numOutputs: number): OutputMetadata[] => {
        for (const id of inputIds) captureExisting(id);
        const metadata = binding.executeOp(op, attrs, inputIds, numOutputs) as OutputMetadata[];
        const node = nodes.length;
        const dependent = inputIds.some((id) => dependsOnInputs.has(id));
        const outputs = metadata.map((meta, output) => {
          sources.set(meta.id, { kind: 'op', node, output });
          if (dependent) dependsOnInputs.add(meta.id);
          const tensor = { handle: meta.id, dtype: meta.dtype, shape: [...meta.shape] };
          known.set(meta.id, tensor);
          return tensor;
        });
        nodes.push({ op, attrs: attrs.map((a) => ({ ...a })), inputs: [...inputIds], outputs });
        return metadata;
      },
    },
    createTensor: {
      value: (shape: number[], dtype: number, values: unknown): number => {
        if (!ArrayBuffer.isView(values)) throw new TraceError(`a kernel made a tensor of TF_DataType ${dtype} from values a graph constant cannot hold (strings are not traced)`);
        const handle = binding.createTensor(shape, dtype, values as Int32Array);
        sources.set(handle, { kind: 'constant', dtype, shape: [...shape], bytes: copyBytes(values) });
        known.set(handle, { handle, dtype, shape: [...shape] });
        return handle;
      },
    },
    tensorDataSync: {
      value: (handle: number) => {
        if (dependsOnInputs.has(handle)) {
          const source = sources.get(handle);
          const what = source?.kind === 'op' ? `the output of ${nodes[source.node]!.op} (op ${source.node})` : 'an input';
          throw new TraceError(`a kernel read ${what} back to the host while tracing: what it computes from those values is not a TensorFlow op, so the model cannot run as one graph`);
        }
        return binding.tensorDataSync(handle);
      },
    },
  }) as Binding;

  const mutable = backend as unknown as { binding: Binding };
  mutable.binding = standIn;
  let outputs: tf.Tensor[];
  let outputHandles: number[];
  try {
    outputs = run();
    outputHandles = backend.getInputTensorIds(outputs);
    for (const handle of outputHandles) captureExisting(handle);
  } finally {
    mutable.binding = binding;
  }
  const trace: OpTrace = { nodes, sources, inputs: tracedInputs, outputs: outputHandles.map((handle) => known.get(handle)!) };
  return { trace, outputs };
}

function tfDtype(binding: Binding, dtype: tf.DataType): number {
  const types: Partial<Record<tf.DataType, number>> = { float32: binding.TF_FLOAT, int32: binding.TF_INT32, bool: binding.TF_BOOL };
  const type = types[dtype];
  if (type === undefined) throw new TraceError(`an input of dtype ${dtype} cannot be a graph input here (float32, int32 and bool can)`);
  return type;
}

function copyBytes(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
}
