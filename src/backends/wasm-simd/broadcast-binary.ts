import { rowsOfVectors } from './row-loops.js';
import { Code, I32, V128, type ValueType, type WasmFunction } from './wasm-binary.js';

/** The elementwise float32 operations written here, by tfjs kernel name: one SIMD instruction each, rounded once as the scalar operation is. */
export const BROADCAST_OPERATIONS: Readonly<Record<'Add' | 'Sub' | 'Multiply' | 'RealDiv', (code: Code) => Code>> = {
  Add: (code) => code.f32x4Add(),
  Sub: (code) => code.f32x4Sub(),
  Multiply: (code) => code.f32x4Mul(),
  RealDiv: (code) => code.f32x4Div(),
};

export type BroadcastOperation = keyof typeof BROADCAST_OPERATIONS;

/**
 * How the operand that is not full size lies against the output, seen as rows: 'row', one vector
 * as long as a row, the same for every row (a bias [C] against [B, T, C]); 'column', one value per
 * row (a LayerNormalization's mean [B, T, 1]), or one value for all (a scalar, its step 0).
 */
export type BroadcastKind = 'row' | 'column';

/** The function's export name. */
export const broadcastFunctionName = (operation: BroadcastOperation, kind: BroadcastKind, fullFirst: boolean) => `${operation}_${kind}_${fullFirst ? 'full_first' : 'full_second'}`;

/**
 * `name(full, other, out, rows, rowBytes, otherStep)`: out = full ∘ other (or other ∘ full), row by
 * row, 4 floats at a time; for 'column', other's value for a row is at other + row · otherStep
 * (4, or 0 for a scalar), for 'row' other is a row of rowBytes, read again for each row.
 * rowBytes is a multiple of 16.
 */
export function broadcastFunction(operation: BroadcastOperation, kind: BroadcastKind, fullFirst: boolean): WasmFunction {
  const [full, other, out, rows, rowBytes, otherStep] = [0, 1, 2, 3, 4, 5];
  const [at, value] = [6, 7];
  const apply = BROADCAST_OPERATIONS[operation];
  const operand = (code: Code) => (kind === 'row' ? code.get(other).get(at).i32Add().v128Load() : code.get(value));
  const body = rowsOfVectors(
    new Code(),
    { rows, rowBytes, at, advance: [full, out], step: kind === 'column' ? [[other, otherStep]] : [] },
    (vector) => {
      vector.get(out).get(at).i32Add();
      if (fullFirst) operand(vector.get(full).get(at).i32Add().v128Load());
      else operand(vector).get(full).get(at).i32Add().v128Load();
      apply(vector).v128Store();
    },
    kind === 'column' ? (row) => row.get(other).f32Load().f32x4Splat().set(value) : undefined,
  );
  const locals: ValueType[] = [I32, V128];
  return { name: broadcastFunctionName(operation, kind, fullFirst), params: [I32, I32, I32, I32, I32, I32], locals, body };
}

/** Every operation, kind and order. */
export function broadcastFunctions(): WasmFunction[] {
  return (Object.keys(BROADCAST_OPERATIONS) as BroadcastOperation[]).flatMap((operation) =>
    (['row', 'column'] as const).flatMap((kind) => [true, false].map((fullFirst) => broadcastFunction(operation, kind, fullFirst))),
  );
}

export type BroadcastRows = (full: number, other: number, out: number, rows: number, rowBytes: number, otherStep: number) => void;

/** A broadcast of one operand against a full-size one, as rows the SIMD functions take; undefined when it is none of their kinds. */
export interface RowBroadcast {
  kind: BroadcastKind;
  rows: number;
  /** Floats per row. */
  columns: number;
  /** Floats from one row's value of the other operand to the next ('column'): 1, or 0 for a scalar. */
  otherStep: number;
}

/**
 * How `other` (broadcast) lies against `outShape`: a scalar (one row of everything, when its size
 * allows whole vectors), a 'row' (1s, then outShape's trailing axes), a 'column' (outShape's
 * leading axes, then 1s); undefined for any other broadcast, and where rows are not whole vectors.
 */
export function asRowBroadcast(other: readonly number[], outShape: readonly number[]): RowBroadcast | undefined {
  const size = outShape.reduce((a, b) => a * b, 1);
  const padded = [...new Array<number>(outShape.length - other.length).fill(1), ...other];
  if (padded.length !== outShape.length) return undefined;
  const whole = (columns: number) => columns > 0 && columns % 4 === 0;
  if (padded.every((d) => d === 1)) {
    // A scalar: every row reads the same value; rows as long as the last axis, or one row.
    const last = outShape[outShape.length - 1] ?? 1;
    if (whole(last)) return { kind: 'column', rows: size / last, columns: last, otherStep: 0 };
    return whole(size) ? { kind: 'column', rows: 1, columns: size, otherStep: 0 } : undefined;
  }
  // 'row': a run of 1s, then outShape's own axes to the end.
  let first = 0;
  while (first < padded.length && padded[first] === 1) first++;
  if (padded.slice(first).every((d, i) => d === outShape[first + i])) {
    const columns = outShape.slice(first).reduce((a, b) => a * b, 1);
    return whole(columns) ? { kind: 'row', rows: size / columns, columns, otherStep: 0 } : undefined;
  }
  // 'column': outShape's own axes, then 1s to the end (the last axis broadcast at least).
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 1) end--;
  if (end < padded.length && padded.slice(0, end).every((d, i) => d === outShape[i])) {
    const columns = outShape.slice(end).reduce((a, b) => a * b, 1);
    return whole(columns) ? { kind: 'column', rows: size / columns, columns, otherStep: 1 } : undefined;
  }
  return undefined;
}
