/**
 * keras.ops semantics on tfjs, for translated layers (route 1): what each row of the mapping table
 * (python/keras_bridge/translation/op_table.py, docs/translation-table.md) calls. Each function
 * takes Keras's arguments in Keras's order and meaning: NumPy broadcasting in matmul, Keras's dtype
 * promotion (an int tensor meets a float one as float32), axis=null for "all axes", NumPy indexing.
 * Everything is built from differentiable tfjs ops, so gradients flow as through any tfjs layer.
 */
import tf from '#tfjs';
import { stopGradient as stopGradientOp } from '../ops/stop-gradient.js';
import { UnsupportedLayerError } from '../errors.js';
import { tfjsActivationFor } from '../convert/activations.js';
import { findCustomActivation } from '../registry/custom-activation-registry.js';
import { random } from '../training/replayable-random.js';
import { tfjsCamelCase } from './python-config.js';
import { isSlice, sliceIndices, type Slice } from './python-semantics.js';

export type TensorOrValue = tf.Tensor | number | boolean | number[] | number[][] | tf.LayerVariable;
export type Axis = number | number[] | null | undefined;
type Dtype = 'float32' | 'int32' | 'bool';

// --- arguments of call() ------------------------------------------------------------------------
export function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/**
 * build()'s input shape. Typed number[] as the code written for it reads (`input_shape[-1]`); the
 * batch dimension and any open one are null at run time, as Python's None.
 */
export function singleShape(shapes: tf.Shape | tf.Shape[]): number[] {
  return (Array.isArray(shapes[0]) ? shapes[0] : shapes) as number[];
}

/** Keras passes `training` as True, False or None; None behaves as False in Python branches. */
export function trainingArg(kwargs: Record<string, unknown> | undefined): boolean | null {
  const value = kwargs?.['training'];
  return typeof value === 'boolean' ? value : null;
}

/** A keyword argument of call(), under its Python name or the camelCase one tfjs passes, else `fallback`. */
export function kwarg<T>(kwargs: Record<string, unknown> | undefined, name: string, fallback: T): any {
  const value = kwargs?.[tfjsCamelCase(name)] ?? kwargs?.[name];
  return value === undefined ? fallback : value;
}

export function maskArg(kwargs: Record<string, unknown> | undefined): tf.Tensor | null {
  const value = kwargs?.['mask'];
  if (Array.isArray(value)) return (value[0] as tf.Tensor | undefined) ?? null;
  return (value as tf.Tensor | undefined) ?? null;
}

// --- conversion and promotion -------------------------------------------------------------------
export function dtype(value: unknown): Dtype {
  const name = String(value);
  if (name === 'bool') return 'bool';
  if (/^u?int/.test(name)) return 'int32';
  return 'float32';
}

export function convertToTensor(x: TensorOrValue, dtypeName?: string | null): tf.Tensor {
  const t = asTensor(x);
  return dtypeName ? cast(t, dtypeName) : t;
}

function asTensor(x: TensorOrValue, like?: tf.Tensor): tf.Tensor {
  if (x instanceof tf.Tensor) return x;
  if (x instanceof tf.LayerVariable) return x.read();
  if (typeof x === 'number') {
    const dtypeName = like && like.dtype === 'int32' && Number.isInteger(x) ? 'int32' : 'float32';
    return tf.scalar(x, dtypeName);
  }
  if (typeof x === 'boolean') return tf.scalar(x, 'bool');
  const flat = (x as unknown[]).flat(Infinity) as unknown[];
  if (flat.some((v) => v instanceof tf.Tensor)) return tf.stack((x as unknown[]).map((v) => asTensor(v as TensorOrValue)));
  return tf.tensor(x as number[], undefined, flat.every((v) => Number.isInteger(v)) ? 'int32' : 'float32');
}

/** Two operands in one dtype, as Keras promotes them: bool < int32 < float32. */
function promote(x: TensorOrValue, y: TensorOrValue): [tf.Tensor, tf.Tensor] {
  const tensorX = x instanceof tf.Tensor || x instanceof tf.LayerVariable ? asTensor(x) : undefined;
  const tensorY = y instanceof tf.Tensor || y instanceof tf.LayerVariable ? asTensor(y) : undefined;
  let a = tensorX ?? asTensor(x, tensorY);
  let b = tensorY ?? asTensor(y, tensorX);
  if (a.dtype !== b.dtype) {
    const rank = (t: tf.Tensor) => ({ bool: 0, int32: 1, float32: 2 } as Record<string, number>)[t.dtype] ?? 2;
    const target = rank(a) > rank(b) ? a.dtype : b.dtype;
    a = a.dtype === target ? a : tf.cast(a, target);
    b = b.dtype === target ? b : tf.cast(b, target);
  }
  return [a, b];
}

function floating(x: TensorOrValue): tf.Tensor {
  const t = asTensor(x);
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

export function cast(x: TensorOrValue, dtypeName: string): tf.Tensor {
  const t = asTensor(x);
  const target = dtype(dtypeName);
  return t.dtype === target ? t : tf.cast(t, target);
}

// --- elementwise ------------------------------------------------------------------------------
export const add = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.add(...promote(x, y));
export const subtract = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.sub(...promote(x, y));
export const multiply = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.mul(...promote(x, y));
export const divide = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.div(floating(x), floating(y));
export const power = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.pow(...promote(x, y));
export const maximum = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.maximum(...promote(x, y));
export const minimum = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.minimum(...promote(x, y));
export const floorDivide = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.floorDiv(...promote(x, y));
export const mod = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.mod(...promote(x, y));
export const squaredDifference = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.squaredDifference(...promote(x, y));
export const equal = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.equal(...promote(x, y));
export const notEqual = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.notEqual(...promote(x, y));
export const greater = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.greater(...promote(x, y));
export const greaterEqual = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.greaterEqual(...promote(x, y));
export const less = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.less(...promote(x, y));
export const lessEqual = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.lessEqual(...promote(x, y));
export const logicalAnd = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.logicalAnd(cast(x, 'bool'), cast(y, 'bool'));
export const logicalOr = (x: TensorOrValue, y: TensorOrValue): tf.Tensor => tf.logicalOr(cast(x, 'bool'), cast(y, 'bool'));

export const softsign = (x: TensorOrValue): tf.Tensor => tf.div(floating(x), tf.add(1, tf.abs(floating(x))));
export const silu = (x: TensorOrValue): tf.Tensor => tf.mul(floating(x), tf.sigmoid(floating(x)));
/** Keras 3's hard_sigmoid: relu6(x + 3) / 6. */
export const hardSigmoid = (x: TensorOrValue): tf.Tensor => tf.div(tf.relu6(tf.add(floating(x), 3)), 6);

export function gelu(x: TensorOrValue, approximate = true): tf.Tensor {
  const t = floating(x);
  if (approximate) {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(t, tf.mul(0.044715, tf.pow(t, 3))));
    return tf.mul(tf.mul(0.5, t), tf.add(1, tf.tanh(inner)));
  }
  return tf.mul(tf.mul(0.5, t), tf.add(1, tf.erf(tf.div(t, Math.SQRT2))));
}

export const leakyRelu = (x: TensorOrValue, alpha = 0.2): tf.Tensor => tf.leakyRelu(floating(x), alpha);

export function clip(x: TensorOrValue, min: TensorOrValue, max: TensorOrValue): tf.Tensor {
  const t = asTensor(x);
  if (typeof min === 'number' && typeof max === 'number') return tf.clipByValue(t, min, max);
  return minimum(maximum(t, min), max);
}

export function where(condition: TensorOrValue, x: TensorOrValue, y: TensorOrValue): tf.Tensor {
  if (x === undefined || y === undefined) throw new UnsupportedLayerError('kops.where(condition) with one argument returns indices, whose shape depends on values; not translated');
  const [a, b] = promote(x, y);
  const c = cast(condition, 'bool');
  const shape = broadcastShapes(broadcastShapes(c.shape, a.shape), b.shape);
  return tf.where(tf.broadcastTo(c, shape), tf.broadcastTo(a, shape), tf.broadcastTo(b, shape));
}

function broadcastShapes(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(a), pad(b)];
  return pa.map((d, i) => (d === 1 ? pb[i]! : d));
}

export const stopGradient = (x: TensorOrValue): tf.Tensor => stopGradientOp(asTensor(x));

// --- reductions -------------------------------------------------------------------------------
function axes(axis: Axis): number | number[] | undefined {
  return axis === null || axis === undefined ? undefined : axis;
}

export const mean = (x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor => tf.mean(floating(x), axes(axis), keepdims);
export const sum = (x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor => tf.sum(asTensor(x), axes(axis), keepdims);
export const max = (x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor => tf.max(asTensor(x), axes(axis), keepdims);
export const min = (x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor => tf.min(asTensor(x), axes(axis), keepdims);
export const prod = (x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor => tf.prod(asTensor(x), axes(axis), keepdims);
export const logsumexp = (x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor => tf.logSumExp(floating(x), axes(axis), keepdims);
export const any = (x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor => tf.any(cast(x, 'bool'), axes(axis), keepdims);
export const all = (x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor => tf.all(cast(x, 'bool'), axes(axis), keepdims);

export function variance(x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor {
  const t = floating(x);
  const centered = tf.sub(t, tf.mean(t, axes(axis), true));
  return tf.mean(tf.square(centered), axes(axis), keepdims);
}

export const std = (x: TensorOrValue, axis: Axis = null, keepdims = false): tf.Tensor => tf.sqrt(variance(x, axis, keepdims));

function argReduce(op: typeof tf.argMax, x: TensorOrValue, axis: number | null, keepdims: boolean): tf.Tensor {
  const t = asTensor(x);
  if (axis === null) {
    const flat = op(tf.reshape(t, [-1]), 0);
    return keepdims ? tf.reshape(flat, t.shape.map(() => 1)) : flat;
  }
  const out = op(t, axis);
  return keepdims ? tf.expandDims(out, axis < 0 ? t.rank + axis : axis) : out;
}

export const argmax = (x: TensorOrValue, axis: number | null = null, keepdims = false): tf.Tensor => argReduce(tf.argMax, x, axis, keepdims);
export const argmin = (x: TensorOrValue, axis: number | null = null, keepdims = false): tf.Tensor => argReduce(tf.argMin, x, axis, keepdims);

export function cumsum(x: TensorOrValue, axis: number | null = null, exclusive = false, reverse = false): tf.Tensor {
  const t = asTensor(x);
  // tfjs 4.22's cumsum mishandles a negative axis (test/e2e/graph-fallback.test.ts pins it): pass it as positive.
  return axis === null ? tf.cumsum(tf.reshape(t, [-1]), 0, exclusive, reverse) : tf.cumsum(t, axis < 0 ? axis + t.rank : axis, exclusive, reverse);
}

function lastAxis(t: tf.Tensor, axis: number): boolean {
  return axis === -1 || axis === t.rank - 1;
}

export function softmax(x: TensorOrValue, axis: number | null = -1): tf.Tensor {
  const t = floating(x);
  if (axis !== null && lastAxis(t, axis)) return tf.softmax(t);
  const exp = tf.exp(tf.sub(t, tf.max(t, axes(axis), true)));
  return tf.div(exp, tf.sum(exp, axes(axis), true));
}

export function logSoftmax(x: TensorOrValue, axis: number | null = -1): tf.Tensor {
  const t = floating(x);
  return tf.sub(t, tf.logSumExp(t, axes(axis), true));
}

/** tf.math.l2_normalize: x * rsqrt(max(sum(x²), epsilon)). */
export function l2Normalize(x: TensorOrValue, axis: Axis = null, epsilon = 1e-12): tf.Tensor {
  const t = floating(x);
  return tf.mul(t, tf.rsqrt(tf.maximum(tf.sum(tf.square(t), axes(axis), true), epsilon)));
}

export function norm(x: TensorOrValue, ord: number | string | null = null, axis: Axis = null, keepdims = false): tf.Tensor {
  const t = floating(x);
  const order = ord === null ? 'euclidean' : ord === 'fro' ? 'fro' : (ord as number);
  return tf.norm(t, order as 'euclidean', axes(axis), keepdims);
}

// --- matrix products --------------------------------------------------------------------------
/** NumPy's matmul: 1-D operands as vectors, batch dimensions broadcast. */
export function matmul(x: TensorOrValue, y: TensorOrValue, transposeA = false, transposeB = false): tf.Tensor {
  let [a, b] = promote(x, y);
  if (a.dtype !== 'float32') [a, b] = [tf.cast(a, 'float32'), tf.cast(b, 'float32')];
  const vectorA = a.rank === 1;
  const vectorB = b.rank === 1;
  if (vectorA) a = tf.expandDims(a, 0);
  if (vectorB) b = tf.expandDims(b, 1);
  let out: tf.Tensor;
  if (b.rank === 2 && a.rank > 2 && !transposeA) {
    // Flatten the leading dimensions: one 2-D product (what Keras's TF backend does too).
    const lead = a.shape.slice(0, -1);
    const product = tf.matMul(tf.reshape(a, [-1, a.shape[a.rank - 1]!]), b, false, transposeB);
    out = tf.reshape(product, [...lead, product.shape[1]!]);
  } else {
    const rank = Math.max(a.rank, b.rank);
    const lift = (t: tf.Tensor) => (t.rank < rank ? tf.reshape(t, [...Array(rank - t.rank).fill(1), ...t.shape]) : t);
    out = tf.matMul(lift(a), lift(b), transposeA, transposeB);
  }
  if (vectorA) out = tf.squeeze(out, [out.rank - 2]);
  if (vectorB) out = tf.squeeze(out, [out.rank - 1]);
  return out;
}

/**
 * einsum over one or two operands, without ellipsis: contracted through transposes, reshapes and
 * one batched matMul (tfjs's own einsum has no gradient), then summed/transposed to the output.
 */
export function einsum(subscripts: string, ...operandsIn: unknown[]): tf.Tensor {
  const operands = (operandsIn.length === 1 && Array.isArray(operandsIn[0]) ? operandsIn[0] : operandsIn) as TensorOrValue[];
  const spec = subscripts.replace(/\s+/g, '');
  if (spec.includes('.')) throw new UnsupportedLayerError(`kops.einsum('${subscripts}'): ellipsis is not supported`);
  const [lhs, explicitOut] = spec.split('->') as [string, string | undefined];
  const inputs = lhs.split(',');
  if (inputs.length !== operands.length) throw new UnsupportedLayerError(`kops.einsum('${subscripts}'): ${inputs.length} subscripts for ${operands.length} operands`);
  const counts = new Map<string, number>();
  for (const ch of inputs.join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const out = explicitOut ?? [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort().join('');
  const tensors = operands.map((o) => floating(o));
  if (tensors.length === 1) return einsumOne(tensors[0]!, inputs[0]!, out);
  // More than two operands: contract left to right, keeping the letters later operands or the output use.
  let left = tensors[0]!;
  let leftLetters = inputs[0]!;
  for (let i = 1; i < tensors.length; i++) {
    const later = inputs.slice(i + 1).join('') + out;
    const kept = i === tensors.length - 1 ? out : [...new Set(leftLetters + inputs[i]!)].filter((c) => later.includes(c)).join('');
    left = einsumPair(left, leftLetters, tensors[i]!, inputs[i]!, kept, subscripts);
    leftLetters = kept;
  }
  return left;
}

/** Two operands contracted to `out`: batch letters (in both and the output) lead one batched matMul. */
function einsumPair(a0: tf.Tensor, sa: string, b0: tf.Tensor, sb: string, out: string, subscripts: string): tf.Tensor {
  const keepA = [...sa].filter((c) => sb.includes(c) || out.includes(c)).join('');
  const keepB = [...sb].filter((c) => sa.includes(c) || out.includes(c)).join('');
  const a = einsumOne(a0, sa, keepA);
  const b = einsumOne(b0, sb, keepB);
  const batch = [...keepA].filter((c) => keepB.includes(c) && out.includes(c));
  const contract = [...keepA].filter((c) => keepB.includes(c) && !out.includes(c));
  const freeA = [...keepA].filter((c) => !keepB.includes(c));
  const freeB = [...keepB].filter((c) => !keepA.includes(c));
  const size = (t: tf.Tensor, s: string, c: string) => t.shape[s.indexOf(c)]!;
  const prodOf = (t: tf.Tensor, s: string, cs: string[]) => cs.reduce((p, c) => p * size(t, s, c), 1);
  const at = tf.transpose(a, [...batch, ...freeA, ...contract].map((c) => keepA.indexOf(c)));
  const bt = tf.transpose(b, [...batch, ...contract, ...freeB].map((c) => keepB.indexOf(c)));
  const batchShape = batch.map((c) => size(a, keepA, c));
  const a3 = tf.reshape(at, [prodOf(a, keepA, batch), prodOf(a, keepA, freeA), prodOf(a, keepA, contract)]);
  const b3 = tf.reshape(bt, [prodOf(b, keepB, batch), prodOf(b, keepB, contract), prodOf(b, keepB, freeB)]);
  const product = tf.matMul(a3, b3);
  const resultLetters = [...batch, ...freeA, ...freeB];
  const shaped = tf.reshape(product, [...batchShape, ...freeA.map((c) => size(a, keepA, c)), ...freeB.map((c) => size(b, keepB, c))]);
  if ([...out].some((c) => !resultLetters.includes(c))) throw new UnsupportedLayerError(`kops.einsum('${subscripts}'): output letter not in the operands`);
  const summed = resultLetters.filter((c) => !out.includes(c));
  const reduced = summed.length ? tf.sum(shaped, summed.map((c) => resultLetters.indexOf(c))) : shaped;
  const remaining = resultLetters.filter((c) => out.includes(c));
  return tf.transpose(reduced, [...out].map((c) => remaining.indexOf(c)));
}

/** One operand: sum letters not in `out`, transpose to `out`'s order (no repeated letters: no diagonals). */
function einsumOne(t: tf.Tensor, s: string, out: string): tf.Tensor {
  if (new Set(s).size !== s.length) throw new UnsupportedLayerError(`kops.einsum: repeated subscript '${s}' (a diagonal) is not supported`);
  const summed = [...s].filter((c) => !out.includes(c));
  const reduced = summed.length ? tf.sum(t, summed.map((c) => s.indexOf(c))) : t;
  const left = [...s].filter((c) => out.includes(c));
  const order = [...out].map((c) => left.indexOf(c));
  return order.every((v, i) => v === i) ? reduced : tf.transpose(reduced, order);
}

// --- shapes and layout ------------------------------------------------------------------------
export function reshape(x: TensorOrValue, shape: Array<number | null>): tf.Tensor {
  return tf.reshape(asTensor(x), shape.map((d) => (d === null ? -1 : d)));
}

export const transpose = (x: TensorOrValue, axesOrder: number[] | null = null): tf.Tensor => tf.transpose(asTensor(x), axesOrder ?? undefined);

export function expandDims(x: TensorOrValue, axis: number | number[]): tf.Tensor {
  let t = asTensor(x);
  const list = Array.isArray(axis) ? axis : [axis];
  const rank = t.rank + list.length;
  for (const a of list.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q)) t = tf.expandDims(t, a);
  return t;
}

export function squeeze(x: TensorOrValue, axis: Axis = null): tf.Tensor {
  const t = asTensor(x);
  return axis === null || axis === undefined ? tf.squeeze(t) : tf.squeeze(t, Array.isArray(axis) ? axis : [axis]);
}

function promoteAll(xs: TensorOrValue[]): tf.Tensor[] {
  const tensors = xs.map((x) => asTensor(x));
  const target = tensors.some((t) => t.dtype === 'float32') ? 'float32' : tensors.some((t) => t.dtype === 'int32') ? 'int32' : 'bool';
  return tensors.map((t) => (t.dtype === target ? t : tf.cast(t, target)));
}

export const concatenate = (xs: TensorOrValue[], axis: number | null = 0): tf.Tensor =>
  axis === null ? tf.concat(promoteAll(xs).map((t) => tf.reshape(t, [-1])), 0) : tf.concat(promoteAll(xs), axis);
export const stack = (xs: TensorOrValue[], axis = 0): tf.Tensor => tf.stack(promoteAll(xs), axis);
export const unstack = (x: TensorOrValue, axis = 0): tf.Tensor[] => tf.unstack(asTensor(x), axis);

/** keras.ops.split: a number of equal sections, or the indices to split before. */
export function split(x: TensorOrValue, sections: number | number[], axis = 0): tf.Tensor[] {
  const t = asTensor(x);
  if (typeof sections === 'number') return tf.split(t, sections, axis);
  const length = t.shape[axis < 0 ? t.rank + axis : axis]!;
  const bounds = [0, ...sections, length];
  return tf.split(t, bounds.slice(1).map((b, i) => b - bounds[i]!), axis);
}

/** tf.split: a number of equal parts, or the sizes (one may be -1). */
export const tfSplit = (x: TensorOrValue, sizes: number | number[], axis = 0): tf.Tensor[] => tf.split(asTensor(x), sizes, axis);

export const tile = (x: TensorOrValue, reps: number[]): tf.Tensor => {
  const t = asTensor(x);
  const lifted = reps.length > t.rank ? tf.reshape(t, [...Array(reps.length - t.rank).fill(1), ...t.shape]) : t;
  const full = reps.length < lifted.rank ? [...Array(lifted.rank - reps.length).fill(1), ...reps] : reps;
  return tf.tile(lifted, full);
};

export function repeat(x: TensorOrValue, repeats: number, axis: number | null = null): tf.Tensor {
  let t = asTensor(x);
  if (axis === null) {
    t = tf.reshape(t, [-1]);
    axis = 0;
  }
  const a = axis < 0 ? t.rank + axis : axis;
  const expanded = tf.expandDims(t, a + 1);
  const reps = expanded.shape.map((_, i) => (i === a + 1 ? repeats : 1));
  const shape = t.shape.map((d, i) => (i === a ? d * repeats : d));
  return tf.reshape(tf.tile(expanded, reps), shape);
}

/** NumPy's moveaxis: axes `source` moved to `destination`, the others keeping their order. */
export function moveaxis(x: TensorOrValue, source: number | number[], destination: number | number[]): tf.Tensor {
  const t = asTensor(x);
  const norm = (a: number) => (a < 0 ? a + t.rank : a);
  const from = (Array.isArray(source) ? source : [source]).map(norm);
  const to = (Array.isArray(destination) ? destination : [destination]).map(norm);
  const order: number[] = Array(t.rank).fill(-1);
  from.forEach((axis, i) => (order[to[i]!] = axis));
  const rest = [...Array(t.rank).keys()].filter((axis) => !from.includes(axis));
  for (let i = 0; i < order.length; i++) if (order[i] === -1) order[i] = rest.shift()!;
  return tf.transpose(t, order);
}

/** keras.ops.slice / tf.slice: `shape` entries of -1 (or null) run to the end. */
export const sliceOp = (x: TensorOrValue, start: number[], shape: Array<number | null>): tf.Tensor =>
  tf.slice(asTensor(x), start, shape.map((d) => d ?? -1));

/** The Keras mask a tensor carries (keras's get_keras_mask): recorded by TranslatedLayer for its inputs and its sub-layers' outputs. */
export function getKerasMask(x: TensorOrValue): tf.Tensor | null {
  return x instanceof tf.Tensor ? (kerasMasks.get(x) ?? null) : null;
}

/** keras's set_keras_mask(x, mask). */
export function setKerasMask(x: tf.Tensor, mask: tf.Tensor | null): null {
  if (mask) kerasMasks.set(x, mask);
  else kerasMasks.delete(x);
  return null;
}

/** Tensor → the Keras mask it carries, as keras keeps `_keras_mask` on tensors. */
export const kerasMasks = new WeakMap<tf.Tensor, tf.Tensor>();

/** keras.initializers.get: kept as Keras serializes it (a name or {class_name, config}); TranslatedLayer.kerasWeight reads it. */
export const initializer = (identifier: unknown): unknown => identifier;

export const broadcastTo = (x: TensorOrValue, shape: number[]): tf.Tensor => tf.broadcastTo(asTensor(x), shape);

export function flip(x: TensorOrValue, axis: Axis = null): tf.Tensor {
  const t = asTensor(x);
  return tf.reverse(t, axis === null || axis === undefined ? t.shape.map((_, i) => i) : axis);
}

export const reverse = (x: TensorOrValue, axis: number[]): tf.Tensor => tf.reverse(asTensor(x), axis);

export function pad(x: TensorOrValue, padding: Array<[number, number]> | number[][], mode = 'constant', value: number | null = 0): tf.Tensor {
  const t = asTensor(x);
  const pairs = padding.map((p) => [p[0]!, p[1]!] as [number, number]);
  const m = mode.toLowerCase();
  if (m === 'constant') return tf.pad(t, pairs, value ?? 0);
  if (m === 'reflect' || m === 'symmetric') return tf.mirrorPad(t, pairs, m);
  throw new UnsupportedLayerError(`kops.pad: mode '${mode}' is not supported`);
}

export const zerosLike = (x: TensorOrValue, dtypeName: string | null = null): tf.Tensor => (dtypeName ? tf.zeros(asTensor(x).shape, dtype(dtypeName)) : tf.zerosLike(asTensor(x)));
export const onesLike = (x: TensorOrValue, dtypeName: string | null = null): tf.Tensor => (dtypeName ? tf.ones(asTensor(x).shape, dtype(dtypeName)) : tf.onesLike(asTensor(x)));
export const zeros = (shape: number[], dtypeName: string | null = null): tf.Tensor => tf.zeros(shape, dtypeName ? dtype(dtypeName) : 'float32');
export const ones = (shape: number[], dtypeName: string | null = null): tf.Tensor => tf.ones(shape, dtypeName ? dtype(dtypeName) : 'float32');

/** keras.ops.arange(start, stop=None, step=1): int32 when every bound is an integer. */
export function arange(start: number, stop: number | null = null, stepOrNull: number | null = 1, dtypeName: string | null = null): tf.Tensor {
  const step = stepOrNull ?? 1; // Keras's own default is None, meaning 1
  const [from, to] = stop === null ? [0, start] : [start, stop];
  const type = dtypeName ? dtype(dtypeName) : [from, to, step].every(Number.isInteger) ? 'int32' : 'float32';
  return tf.range(from, to, step, type === 'bool' ? 'float32' : type);
}

export function tfRange(start: number, limit: number | null = null, delta: number | null = 1, dtypeName: string | null = null): tf.Tensor {
  return arange(start, limit, delta, dtypeName);
}

/** keras.ops.one_hot: float32 unless a dtype is given. */
export function oneHot(x: TensorOrValue, depth: number, axis = -1, dtypeName: string | null = null): tf.Tensor {
  const hot = tf.oneHot(cast(x, 'int32'), depth);
  const moved = axis === -1 || axis === hot.rank - 1 ? hot : tf.transpose(hot, moveLast(hot.rank, axis));
  return tf.cast(moved, dtypeName ? dtype(dtypeName) : 'float32');
}

function moveLast(rank: number, axis: number): number[] {
  const a = axis < 0 ? rank + axis : axis;
  const order = [...Array(rank - 1).keys()];
  order.splice(a, 0, rank - 1);
  return order;
}

export function tfOneHot(x: TensorOrValue, depth: number, on: number | null = null, off: number | null = null, axis: number | null = -1, dtypeName: string | null = null): tf.Tensor {
  const hot = tf.oneHot(cast(x, 'int32'), depth, on ?? 1, off ?? 0);
  const a = axis ?? -1;
  const moved = a === -1 || a === hot.rank - 1 ? hot : tf.transpose(hot, moveLast(hot.rank, a));
  return tf.cast(moved, dtypeName ? dtype(dtypeName) : 'float32');
}

export function take(x: TensorOrValue, indices: TensorOrValue, axis: number | null = null): tf.Tensor {
  const t = asTensor(x);
  const i = cast(indices, 'int32');
  return axis === null ? tf.gather(tf.reshape(t, [-1]), i, 0) : tf.gather(t, i, axis);
}

export const gather = (x: TensorOrValue, indices: TensorOrValue, axis: number | null = null, batchDims = 0): tf.Tensor =>
  tf.gather(asTensor(x), cast(indices, 'int32'), axis ?? batchDims, batchDims);

function band(x: TensorOrValue, k: number, upper: boolean): tf.Tensor {
  const t = asTensor(x);
  const [rows, cols] = t.shape.slice(-2) as [number, number];
  const offset = tf.sub(tf.range(0, cols, 1, 'int32').reshape([1, cols]), tf.range(0, rows, 1, 'int32').reshape([rows, 1]));
  const keep = upper ? tf.greaterEqual(offset, k) : tf.lessEqual(offset, k);
  return tf.where(tf.broadcastTo(keep, t.shape), t, tf.zerosLike(t));
}

export const triu = (x: TensorOrValue, k = 0): tf.Tensor => band(x, k, true);
export const tril = (x: TensorOrValue, k = 0): tf.Tensor => band(x, k, false);

// --- shapes as values -------------------------------------------------------------------------
export const shapeOf = (x: TensorOrValue): number[] => asTensor(x).shape;
export const rankOf = (x: TensorOrValue): number => asTensor(x).rank;
export const sizeOf = (x: TensorOrValue): number => asTensor(x).size;

// --- NumPy basic indexing ---------------------------------------------------------------------
export type IndexSpec = number | Slice | null | '...';

/** `x[...]` with ints, slices (any step), None (a new axis) and Ellipsis, as NumPy reads them. */
export function getItem(x: TensorOrValue, specs: IndexSpec[]): tf.Tensor {
  let t = asTensor(x);
  const consumed = specs.filter((s) => s !== null && s !== '...').length;
  const ellipsis = specs.indexOf('...');
  const expanded: IndexSpec[] = [];
  for (const s of specs) {
    if (s === '...') {
      for (let k = 0; k < t.rank - consumed; k++) expanded.push({ slice: true, start: null, stop: null, step: null });
    } else expanded.push(s);
  }
  if (ellipsis < 0) while (expanded.filter((s) => s !== null).length < t.rank) expanded.push({ slice: true, start: null, stop: null, step: null });
  const begin: number[] = [];
  const size: number[] = [];
  const gathers: Array<[number, number[]]> = [];
  const drop: number[] = [];
  const newAxes: number[] = [];
  let axis = 0;
  let outAxis = 0;
  for (const s of expanded) {
    if (s === null) {
      newAxes.push(outAxis++);
      continue;
    }
    const length = t.shape[axis]!;
    if (typeof s === 'number') {
      const i = s < 0 ? s + length : s;
      if (i < 0 || i >= length) throw new RangeError(`index ${s} is out of bounds for axis ${axis} with size ${length}`);
      begin.push(i);
      size.push(1);
      drop.push(axis);
    } else if (isSlice(s)) {
      const indices = sliceIndices(length, s);
      const contiguous = indices.every((v, k) => k === 0 || v === indices[k - 1]! + 1);
      if (contiguous) {
        begin.push(indices[0] ?? 0);
        size.push(indices.length);
      } else {
        begin.push(0);
        size.push(length);
        gathers.push([axis, indices]);
      }
      outAxis++;
    }
    axis++;
  }
  t = tf.slice(t, begin, size);
  for (const [a, indices] of gathers) t = tf.gather(t, tf.tensor1d(indices, 'int32'), a);
  if (drop.length) t = tf.reshape(t, t.shape.filter((_, i) => !drop.includes(i)));
  for (const a of newAxes) t = tf.expandDims(t, a);
  return t;
}

// --- sub-layers and their weights ---------------------------------------------------------------
export function layerWeight(layer: tf.layers.Layer, name: string): tf.Tensor {
  const variable = layer.weights.find((w) => w.originalName.split('/').pop() === name);
  if (!variable) throw new UnsupportedLayerError(`layer '${layer.name}' has no weight '${name}' (it has ${layer.weights.map((w) => w.originalName).join(', ')})`);
  return variable.read();
}

export function layerField(layer: tf.layers.Layer, name: string): unknown {
  const config = layer.getConfig() as Record<string, unknown>;
  return config[tfjsCamelCase(name)] ?? config[name];
}

export function computeMask(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], mask: tf.Tensor | null = null): tf.Tensor | null {
  return (layer.computeMask(inputs, mask ?? undefined) as tf.Tensor | null) ?? null;
}

// --- state: a weight updated by call() (moving statistics in training) ------------------------
export function assign(variable: tf.LayerVariable, value: TensorOrValue): null {
  variable.write(cast(value, variable.dtype));
  return null;
}

export const assignAdd = (variable: tf.LayerVariable, value: TensorOrValue): null => assign(variable, add(variable.read(), value));
export const assignSub = (variable: tf.LayerVariable, value: TensorOrValue): null => assign(variable, subtract(variable.read(), value));

// --- activations by name ------------------------------------------------------------------------
/** keras.activations.get(name): a function tensor → tensor, through the converter's activation table. */
export function activation(spec: string | { config?: unknown; class_name?: string } | null | undefined): (x: tf.Tensor) => tf.Tensor {
  // A name, or Keras's serialized function ({"class_name": "function", "config": "gelu", ...}).
  const identifier = typeof spec === 'object' && spec !== null ? (typeof spec.config === 'string' ? spec.config : spec.class_name) : spec;
  if (identifier === null || identifier === undefined || identifier === 'linear') return (x) => x;
  const name = findCustomActivation(identifier)?.className ?? tfjsActivationFor(identifier);
  if (!name) throw new UnsupportedLayerError(`keras.activations.get('${identifier}'): no tfjs activation of that name`);
  const layer = tf.layers.activation({ activation: name as 'relu' });
  // Keeps its Keras name, so that a sub-layer given it (Dense(activation=self.activation)) is configured by name.
  return Object.assign((x: tf.Tensor) => layer.apply(x) as tf.Tensor, { kerasName: identifier });
}

// --- random draws, replayable by training-mode parity (src/training/replayable-random.ts) ----------
/** keras.random.SeedGenerator: draws in TypeScript take no seed object. */
export const seedGenerator = (): null => null;
export const randomUniform = (shape: number[], minval = 0, maxval = 1): tf.Tensor => random.uniform(shape, minval, maxval);
export const randomNormal = (shape: number[], mean = 0, stddev = 1): tf.Tensor => random.normal(shape, mean, stddev);
export const randomDropout = (x: TensorOrValue, rate: number, noiseShape: number[] | null = null): tf.Tensor => {
  const t = floating(x);
  return random.dropout(t, rate, noiseShape ?? t.shape);
};

export { kerasLayer } from './keras-sub-layer.js';
