import tf from '#tfjs';

/** An attribute of a TensorFlow op, by the kind of value TensorFlow's C API takes for it. */
export type TensorflowOpAttr =
  | { type: 'dtype'; value: tf.DataType }
  | { type: 'float'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'int'; value: number | number[] }
  /** Lists of strings and of dtypes need keras-bridge's build of the binding (scripts/binding-list-attributes.mjs). */
  | { type: 'strings'; value: string[] }
  | { type: 'dtypes'; value: tf.DataType[] };

type OpAttrs = Array<{ name: string; type: number; value: unknown }>;

/** What keras-bridge calls of tfjs-node's kernel backend: any TensorFlow op, by its name, eagerly. */
export interface TensorflowKernelBackend extends tf.KernelBackend {
  binding: Record<'TF_ATTR_TYPE' | 'TF_ATTR_FLOAT' | 'TF_ATTR_BOOL' | 'TF_ATTR_STRING' | 'TF_ATTR_INT' | 'TF_FLOAT' | 'TF_INT32' | 'TF_BOOL', number> & {
    createTensor(shape: number[], dtype: number, values: Int32Array): number;
    deleteTensor(handle: number): void;
    executeOp(name: string, attrs: OpAttrs, inputs: number[], numOutputs: number): unknown[];
  };
  executeMultipleOutputs(name: string, attrs: OpAttrs, inputs: tf.TensorInfo[], numOutputs: number): tf.Tensor[];
  getInputTensorIds(inputs: tf.TensorInfo[]): number[];
  createOutputTensor(metadata: unknown): tf.Tensor;
}

/** A tensor held by keras-bridge in TensorFlow alone, as the binding's handle (tensorflow-int-operands.ts). */
export interface TensorflowHandle {
  tensorflowHandle: number;
}

export function isTensorflowBackend(backend: tf.KernelBackend): backend is TensorflowKernelBackend {
  return typeof (backend as Partial<TensorflowKernelBackend>).executeMultipleOutputs === 'function' && (backend as Partial<TensorflowKernelBackend>).binding !== undefined;
}

/**
 * Runs TensorFlow's op `name` (its C++ kernel, e.g. ReluGrad) on the `tensorflow` backend, for
 * kernels tfjs-node composes from several ops where TensorFlow has one. Returns its first
 * `numOutputs` outputs as tensors the engine tracks, like tfjs-node's own kernels do.
 */
export function runTensorflowOp(
  backend: tf.KernelBackend,
  name: string,
  inputs: Array<tf.TensorInfo | TensorflowHandle>,
  attrs: Record<string, TensorflowOpAttr>,
  numOutputs = 1,
): tf.Tensor[] {
  if (!isTensorflowBackend(backend)) throw new Error(`${name}: TensorFlow ops run only on the tensorflow backend (tfjs-node)`);
  const { binding } = backend;
  const dtypes: Partial<Record<tf.DataType, number>> = { float32: binding.TF_FLOAT, int32: binding.TF_INT32, bool: binding.TF_BOOL };
  const kinds = { float: binding.TF_ATTR_FLOAT, bool: binding.TF_ATTR_BOOL, string: binding.TF_ATTR_STRING, int: binding.TF_ATTR_INT, strings: binding.TF_ATTR_STRING };
  const tfType = (attrName: string, dtype: tf.DataType): number => {
    const type = dtypes[dtype];
    if (type === undefined) throw new Error(`${name}: attribute ${attrName}: dtype ${dtype} has no TensorFlow op here`);
    return type;
  };
  const opAttrs = Object.entries(attrs).map(([attrName, attr]) => {
    if (attr.type === 'dtype') return { name: attrName, type: binding.TF_ATTR_TYPE, value: tfType(attrName, attr.value) };
    if (attr.type === 'dtypes') return { name: attrName, type: binding.TF_ATTR_TYPE, value: attr.value.map((d) => tfType(attrName, d)) };
    return { name: attrName, type: kinds[attr.type], value: attr.value };
  });
  if (inputs.every((input): input is tf.TensorInfo => !('tensorflowHandle' in input))) return backend.executeMultipleOutputs(name, opAttrs, inputs, numOutputs);
  // Handles go to TensorFlow as they are; tensors by the handles tfjs-node gives them.
  const handles = inputs.map((input) => ('tensorflowHandle' in input ? input.tensorflowHandle : backend.getInputTensorIds([input])[0]!));
  return backend.binding.executeOp(name, opAttrs, handles, numOutputs).map((metadata) => backend.createOutputTensor(metadata));
}
