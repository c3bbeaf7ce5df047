import tf from '#tfjs';
import { isSliceSlot } from './operation-arguments.js';
import { registerOperation, type OperationConfig } from './operation-registry.js';
import { InputError, UnsupportedLayerError } from '../../errors.js';

// keras.ops.numpy operations, with NumPy semantics (broadcasting, Python scalars as float32).

function tensorOf(value: unknown): tf.Tensor {
  if (value instanceof tf.Tensor) return value;
  if (typeof value === 'number' || typeof value === 'boolean') return tf.scalar(Number(value));
  throw new InputError(`expected a tensor or a number, got ${JSON.stringify(value)}`);
}

function axisOf(config: OperationConfig): number | number[] | undefined {
  const axis = config.get('axis');
  return axis === null || axis === undefined ? undefined : (axis as number | number[]);
}

const binary: Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  Add: tf.add,
  Subtract: tf.sub,
  Multiply: tf.mul,
  Divide: tf.div,
  TrueDivide: tf.div,
  Power: tf.pow,
  Maximum: tf.maximum,
  Minimum: tf.minimum,
  Matmul: (a, b) => tf.matMul(a, b),
};
// Division makes floats in Keras whatever the dtypes; the others keep an integer tensor's dtype
// beside a whole Python number (`positions - 1` on int32 ids stays int32, as in Keras).
const keepsIntegerDtype = new Set(['Add', 'Subtract', 'Multiply', 'Maximum', 'Minimum']);
for (const [name, fn] of Object.entries(binary)) {
  registerOperation(`numpy.${name}`, ([a, b]) => {
    const [x, y] = keepsIntegerDtype.has(name) ? weakOperands(a, b) : [tensorOf(a), tensorOf(b)];
    return fn(x, y);
  });
}

/** A Python number beside an integer tensor: the tensor's dtype when whole, else both float32 (Keras's weak scalars). */
function weakOperands(a: unknown, b: unknown): [tf.Tensor, tf.Tensor] {
  const tensor = a instanceof tf.Tensor ? a : b instanceof tf.Tensor ? b : null;
  const number = tensor === a ? b : a;
  if (!tensor || number instanceof tf.Tensor || tensor.dtype !== 'int32') return [tensorOf(a), tensorOf(b)];
  const whole = Number.isInteger(Number(number));
  const t = whole ? tensor : tf.cast(tensor, 'float32');
  const scalar = tf.scalar(Number(number), whole ? 'int32' : 'float32');
  return tensor === a ? [t, scalar] : [scalar, t];
}

const unary: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  Negative: tf.neg,
  Abs: tf.abs,
  Absolute: tf.abs,
  Exp: tf.exp,
  Log: tf.log,
  Sqrt: tf.sqrt,
  Square: tf.square,
  Tanh: tf.tanh,
  Sin: tf.sin,
  Cos: tf.cos,
  Reciprocal: tf.reciprocal,
  Sign: tf.sign,
};
for (const [name, fn] of Object.entries(unary)) {
  registerOperation(`numpy.${name}`, ([x]) => fn(tensorOf(x)));
}

// Shape-following constructors and running sums: positions computed from the ids, whatever their length.
registerOperation('numpy.OnesLike', ([x], config) => tf.onesLike(castTo(tensorOf(x), config.get('dtype'))));
registerOperation('numpy.ZerosLike', ([x], config) => tf.zerosLike(castTo(tensorOf(x), config.get('dtype'))));
registerOperation('numpy.Cumsum', ([x], config) => {
  const axis = config.get('axis') as number | null | undefined;
  const t = castTo(tensorOf(x), config.get('dtype'));
  return axis === null || axis === undefined ? tf.cumsum(tf.reshape(t, [-1]), 0) : tf.cumsum(t, axis);
});

/** `dtype=None` keeps the input's; int64 is int32 in tfjs. */
function castTo(x: tf.Tensor, dtype: unknown): tf.Tensor {
  if (dtype === null || dtype === undefined) return x;
  const target = String(dtype).startsWith('int') || String(dtype).startsWith('uint') ? 'int32' : String(dtype) === 'bool' ? 'bool' : 'float32';
  return x.dtype === target ? x : tf.cast(x, target);
}

const reductions: Record<string, (x: tf.Tensor, axis: number | number[] | undefined, keepDims: boolean) => tf.Tensor> = {
  Mean: tf.mean,
  Sum: tf.sum,
  Max: tf.max,
  Min: tf.min,
  Prod: tf.prod,
};
for (const [name, fn] of Object.entries(reductions)) {
  registerOperation(`numpy.${name}`, ([x], config) => fn(tensorOf(x), axisOf(config), Boolean(config.get('keepdims'))));
}

/** A Python number beside a tensor takes the tensor's dtype, as NumPy's (and Keras's) weak scalars do. */
function tensorsOf(a: unknown, b: unknown): [tf.Tensor, tf.Tensor] {
  if (a instanceof tf.Tensor && !(b instanceof tf.Tensor)) return [a, tf.scalar(Number(b), a.dtype)];
  if (b instanceof tf.Tensor && !(a instanceof tf.Tensor)) return [tf.scalar(Number(a), b.dtype), b];
  return [tensorOf(a), tensorOf(b)];
}

function asBool(x: unknown): tf.Tensor {
  const t = tensorOf(x);
  return t.dtype === 'bool' ? t : tf.notEqual(t, tf.zerosLike(t));
}

// Masks: keras.ops.where(mask, x, 0.0) and its logical companions (a bool input fed as a mask).
registerOperation('numpy.Where', ([condition, x1, x2]) => {
  if (x1 === null || x1 === undefined || x2 === null || x2 === undefined) {
    throw new UnsupportedLayerError('keras.ops.where(condition) without x1 and x2 (the indices of True elements) has no fixed output shape');
  }
  const [a, b] = tensorsOf(x1, x2);
  return tf.where(asBool(condition), a, b.dtype === a.dtype ? b : tf.cast(b, a.dtype));
});
registerOperation('numpy.LogicalNot', ([x]) => tf.logicalNot(asBool(x)));
const logical: Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  LogicalAnd: tf.logicalAnd,
  LogicalOr: tf.logicalOr,
  LogicalXor: tf.logicalXor,
};
for (const [name, fn] of Object.entries(logical)) {
  registerOperation(`numpy.${name}`, ([a, b]) => fn(asBool(a), asBool(b)));
}
const comparisons: Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  Equal: tf.equal,
  NotEqual: tf.notEqual,
  Greater: tf.greater,
  GreaterEqual: tf.greaterEqual,
  Less: tf.less,
  LessEqual: tf.lessEqual,
};
for (const [name, fn] of Object.entries(comparisons)) {
  registerOperation(`numpy.${name}`, ([a, b]) => fn(...tensorsOf(a, b)));
}

// Integer heads: argmax over class scores. Keras's axis=None is over the flattened tensor (tfjs's
// default is axis 0); ties go to the first index in both.
const argReductions: Record<string, (x: tf.Tensor, axis: number) => tf.Tensor> = { Argmax: tf.argMax, Argmin: tf.argMin };
for (const [name, fn] of Object.entries(argReductions)) {
  registerOperation(`numpy.${name}`, ([x], config) => {
    const t = tensorOf(x);
    const axis = config.get('axis') as number | null | undefined;
    if (axis === null || axis === undefined) {
      const flat = fn(tf.reshape(t, [-1]), 0);
      return config.get('keepdims') ? tf.reshape(flat, t.shape.map(() => 1)) : flat;
    }
    const index = fn(t, axis);
    return config.get('keepdims') ? tf.expandDims(index, axis < 0 ? axis + t.rank : axis) : index;
  });
}

registerOperation('numpy.Reshape', ([x], config) => tf.reshape(tensorOf(x), config.get('newshape') as number[]));
registerOperation('numpy.Transpose', ([x], config) => tf.transpose(tensorOf(x), (config.get('axes') as number[] | null) ?? undefined));
registerOperation('numpy.ExpandDims', ([x], config) => tf.expandDims(tensorOf(x), config.get('axis') as number));
registerOperation('numpy.Squeeze', ([x], config) => {
  const axis = axisOf(config);
  return tf.squeeze(tensorOf(x), axis === undefined ? undefined : [axis].flat());
});
// axis=None flips every axis, as tf.reverse does without one.
registerOperation('numpy.Flip', ([x], config) => tf.reverse(tensorOf(x), axisOf(config)));
registerOperation('numpy.Clip', ([x], config) => tf.clipByValue(tensorOf(x), config.get('x_min') as number, config.get('x_max') as number));
registerOperation('numpy.Concatenate', ([xs], config) => tf.concat((xs as unknown[]).map(tensorOf), (config.get('axis') as number | null) ?? 0));
registerOperation('numpy.Stack', ([xs], config) => tf.stack((xs as unknown[]).map(tensorOf), (config.get('axis') as number | null) ?? 0));

/** The indices Python's slice(start, stop, step) selects from an axis of length n. */
export function pythonSliceIndices(n: number, start: number | null, stop: number | null, step: number | null): number[] {
  const by = step ?? 1;
  if (by === 0) throw new InputError('slice step cannot be zero');
  const clampIndex = (i: number, low: number, high: number) => Math.min(Math.max(i < 0 ? i + n : i, low), high);
  const first = start === null ? (by > 0 ? 0 : n - 1) : clampIndex(start, by > 0 ? 0 : -1, by > 0 ? n : n - 1);
  const last = stop === null ? (by > 0 ? n : -1) : clampIndex(stop, by > 0 ? 0 : -1, by > 0 ? n : n - 1);
  const indices: number[] = [];
  for (let i = first; by > 0 ? i < last : i > last; i += by) indices.push(i);
  return indices;
}

/**
 * x[...] with integers and slices (Keras's GetItem), built from slice and gather, which tfjs can
 * differentiate (its StridedSlice has no gradient). None and Ellipsis are refused at conversion.
 */
registerOperation('numpy.GetItem', ([x, key]) => {
  let tensor = tensorOf(x);
  const keys = Array.isArray(key) ? key : [key];
  const dropAxes: number[] = [];
  keys.forEach((k, axis) => {
    const n = tensor.shape[axis]!;
    if (typeof k === 'number') {
      const index = k < 0 ? k + n : k;
      tensor = tf.slice(tensor, tensor.shape.map((_, a) => (a === axis ? index : 0)), tensor.shape.map((d, a) => (a === axis ? 1 : d)));
      dropAxes.push(axis);
    } else if (isSliceSlot(k)) {
      const indices = pythonSliceIndices(n, ...k.slice);
      const contiguous = indices.every((v, i) => v === indices[0]! + i);
      tensor = contiguous && indices.length > 0
        ? tf.slice(tensor, tensor.shape.map((_, a) => (a === axis ? indices[0]! : 0)), tensor.shape.map((d, a) => (a === axis ? indices.length : d)))
        : tf.gather(tensor, tf.tensor1d(indices, 'int32'), axis);
    } else {
      throw new UnsupportedLayerError(`unsupported index ${JSON.stringify(k)}`);
    }
  });
  return dropAxes.length > 0 ? tf.squeeze(tensor, dropAxes) : tensor;
});

export const NUMPY_OPERATIONS_LOADED = true;
