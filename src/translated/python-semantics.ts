import { UnsupportedLayerError } from '../errors.js';

/**
 * Python's meaning for static values in translated code (route 1, docs/custom-layer-routes.md):
 * negative indices, slices, floor division and modulo, truthiness. Shapes and config fields are
 * plain numbers and arrays at run time (tfjs is eager), so Python's control flow on them runs as is.
 */

/** `seq[i]` with Python's negative indices; throws on out of range, as Python does. */
export function at<T>(sequence: readonly T[], index: number): T {
  const i = index < 0 ? sequence.length + index : index;
  if (i < 0 || i >= sequence.length) throw new RangeError(`index ${index} out of range for a sequence of length ${sequence.length}`);
  return sequence[i]!;
}

/** Python's `slice(start, stop, step)` as an indexing spec for kops.getItem. */
export interface Slice {
  readonly slice: true;
  readonly start: number | null;
  readonly stop: number | null;
  readonly step: number | null;
}

export function slice(start: number | null = null, stop: number | null = null, step: number | null = null): Slice {
  return { slice: true, start, stop, step };
}

export function isSlice(value: unknown): value is Slice {
  return typeof value === 'object' && value !== null && (value as Slice).slice === true;
}

/** The indices `range(len)[start:stop:step]` selects, as Python computes them. */
export function sliceIndices(length: number, s: Slice): number[] {
  const step = s.step ?? 1;
  if (step === 0) throw new RangeError('slice step cannot be zero');
  const clamp = (v: number, low: number, high: number) => Math.min(Math.max(v, low), high);
  const norm = (v: number) => (v < 0 ? v + length : v);
  const start = s.start === null ? (step > 0 ? 0 : length - 1) : step > 0 ? clamp(norm(s.start), 0, length) : clamp(norm(s.start), -1, length - 1);
  const stop = s.stop === null ? (step > 0 ? length : -1) : step > 0 ? clamp(norm(s.stop), 0, length) : clamp(norm(s.stop), -1, length - 1);
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/** `seq[start:stop:step]` on a list, tuple or shape. */
export function sliceList<T>(sequence: readonly T[], start: number | null, stop: number | null, step: number | null = null): T[] {
  return sliceIndices(sequence.length, slice(start, stop, step)).map((i) => sequence[i]!);
}

export function range(a: number, b?: number, step = 1): number[] {
  const [start, stop] = b === undefined ? [0, a] : [a, b];
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/** Python's `a // b` (floor), not JavaScript's truncation. */
export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** Python's `a % b`: the sign of the divisor. */
export function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** Python's round(): halves to even. */
export function round(x: number, digits?: number): number {
  const scale = 10 ** (digits ?? 0);
  const y = x * scale;
  const r = Math.round(y);
  const rounded = Math.abs(y % 1) === 0.5 ? 2 * Math.round(y / 2) : r;
  return rounded / scale;
}

/** Python truthiness: empty sequences and 0 are false; null (None) is false. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'string') return value.length > 0;
  return Boolean(value);
}

export function contains(container: unknown, item: unknown): boolean {
  if (Array.isArray(container)) return container.some((x) => equal(x, item));
  if (typeof container === 'string') return container.includes(String(item));
  if (typeof container === 'object' && container !== null) return Object.prototype.hasOwnProperty.call(container, String(item));
  return false;
}

/** `==` on values that may be tuples (shapes). */
export function equal(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  return a === b;
}

/** `seq[i] = value` on a list (a shape being edited) or a dict. */
export function setItem(container: unknown[] | Record<string, unknown>, key: number | string, value: unknown): void {
  if (Array.isArray(container)) {
    const i = (key as number) < 0 ? container.length + (key as number) : (key as number);
    if (i < 0 || i >= container.length) throw new RangeError(`list assignment index ${key} out of range`);
    container[i] = value;
  } else container[key as string] = value;
}

/** dict.pop(key, default): removes and returns the value, else the default. */
export function pop(dict: Record<string, unknown>, key: string, fallback?: unknown): any {
  if (Object.prototype.hasOwnProperty.call(dict, key)) {
    const value = dict[key];
    delete dict[key];
    return value;
  }
  if (fallback === undefined) throw new UnsupportedLayerError(`KeyError: '${key}' (dict.pop without a default)`);
  return fallback;
}

export function repeatList<T>(sequence: readonly T[], times: number): T[] {
  return Array.from({ length: Math.max(times, 0) }, () => sequence).flat() as T[];
}

export function indexOf<T>(sequence: readonly T[], item: T): number {
  const i = sequence.findIndex((x) => equal(x, item));
  if (i < 0) throw new RangeError(`${String(item)} is not in the sequence`);
  return i;
}

export function countOf<T>(sequence: readonly T[], item: T): number {
  return sequence.filter((x) => equal(x, item)).length;
}
