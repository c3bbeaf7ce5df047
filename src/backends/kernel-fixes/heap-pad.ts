import tf from '#tfjs';
import { elementwiseParts } from './heap-elementwise.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';
import type { KernelCall } from '../wasm-simd/kernel-threads.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';

/** How many PadV2 calls ran here, and how many of them on the kernel threads (tests check the path a case took). */
export const heapPadCalls = { count: 0, threaded: 0 };

/**
 * A pad as runs: the output's rows (every index of the axes before the last padded one), each
 * `before` elements of padding, an input run, `after` of padding; or padding whole. Segments merge
 * what is contiguous: consecutive rows that hold a run, and padding that follows padding.
 */
export type PadSegment = { kind: 'rows'; from: number; to: number; rows: number } | { kind: 'fill'; to: number; elements: number };

export interface PadPlan {
  /** Elements of one input run, and of the padding before and after it in its row. */
  run: number;
  before: number;
  after: number;
  segments: PadSegment[];
}

/** The runs and padding of `shape` padded by `paddings` (offsets in elements), in output order. */
export function padPlan(shape: readonly number[], paddings: ReadonlyArray<readonly [number, number]>): PadPlan {
  if (shape.length === 0) return { run: 1, before: 0, after: 0, segments: [{ kind: 'rows', from: 0, to: 0, rows: 1 }] };
  const outShape = shape.map((d, axis) => d + paddings[axis]![0] + paddings[axis]![1]);
  // The last padded axis: a run is its input length times the elements of the axes after it.
  let runAxis = shape.length - 1;
  while (runAxis > 0 && paddings[runAxis]![0] === 0 && paddings[runAxis]![1] === 0) runAxis--;
  const block = shape.slice(runAxis + 1).reduce((a, b) => a * b, 1);
  const [run, before, after] = [shape[runAxis]! * block, paddings[runAxis]![0] * block, paddings[runAxis]![1] * block];
  const outRun = before + run + after;
  const segments: PadSegment[] = [];
  if (run === 0 || shape.some((d) => d === 0)) {
    const elements = outShape.reduce((a, b) => a * b, 1);
    return { run: 0, before: 0, after: 0, segments: elements > 0 ? [{ kind: 'fill', to: 0, elements }] : [] };
  }
  const rows = outShape.slice(0, runAxis).reduce((a, b) => a * b, 1);
  const index = new Array<number>(runAxis).fill(0);
  let read = 0;
  for (let row = 0, to = 0; row < rows; row++, to += outRun) {
    const last = segments[segments.length - 1];
    if (index.every((i, axis) => i >= paddings[axis]![0] && i < paddings[axis]![0] + shape[axis]!)) {
      if (last?.kind === 'rows' && last.to + last.rows * outRun === to) last.rows++;
      else segments.push({ kind: 'rows', from: read, to, rows: 1 });
      read += run;
    } else if (last?.kind === 'fill' && last.to + last.elements === to) last.elements += outRun;
    else segments.push({ kind: 'fill', to, elements: outRun });
    for (let axis = runAxis - 1; axis >= 0; axis--) {
      if (++index[axis]! < outShape[axis]!) break;
      index[axis] = 0;
    }
  }
  return { run, before, after, segments };
}

/** The segments cut into `parts` pieces of about equal output, a rows segment by whole rows, a fill anywhere. */
export function cutPlan(plan: PadPlan, total: number, parts: number): PadSegment[][] {
  const outRun = plan.before + plan.run + plan.after;
  const share = Math.max(1, Math.ceil(total / parts));
  const pieces: PadSegment[][] = [[]];
  let room = share;
  const place = (segment: PadSegment) => {
    pieces[pieces.length - 1]!.push(segment);
    room -= segment.kind === 'rows' ? segment.rows * outRun : segment.elements;
    if (room <= 0) {
      pieces.push([]);
      room = share;
    }
  };
  for (const segment of plan.segments) {
    let rest: PadSegment | undefined = segment;
    while (rest) {
      if (rest.kind === 'rows') {
        const rows = Math.min(rest.rows, Math.max(1, Math.ceil(room / outRun)));
        place({ ...rest, rows });
        rest = rows < rest.rows ? { kind: 'rows', from: rest.from + rows * plan.run, to: rest.to + rows * outRun, rows: rest.rows - rows } : undefined;
      } else {
        const elements = Math.min(rest.elements, room);
        place({ ...rest, elements });
        rest = elements < rest.elements ? { kind: 'fill', to: rest.to + elements, elements: rest.elements - elements } : undefined;
      }
    }
  }
  return pieces.filter((piece) => piece.length > 0);
}

/**
 * PadV2 on wasm's heap by runs (padPlan): each input run that stays contiguous in the output (the
 * last padded axis and every axis after it) copied whole, the padding between two runs (the end of
 * one row, whole padded rows, the start of the next) filled at once. A zero pad runs as bulk
 * memory's copy and fill (wasm-simd/pad-rows.ts), cut among the kernel threads for large tensors;
 * another value, as TypedArray.set and fill here. tfjs-backend-wasm 4.22's PadV2 moves element by
 * element: a [32, 224, 224, 3] image batch padded by 3 (ResNet50's stem) took 32-50 ms there, 0.4
 * GB/s. keras-bridge's Winograd convolutions pad their input with it too (winograd-conv2d.ts).
 * The output is made first (making it may grow the heap, which moves every view). Strings and
 * complex numbers live outside the heap: undefined, and tfjs's kernel runs.
 */
export function heapPad({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const x = inputs['x'];
  const paddings = attrs?.['paddings'] as Array<[number, number]> | undefined;
  if (!x || x.dtype === 'string' || x.dtype === 'complex64' || !paddings || paddings.length !== x.shape.length) return undefined;
  if (paddings.some(([before, after]) => !(Number.isInteger(before) && Number.isInteger(after) && before >= 0 && after >= 0))) return undefined;
  const value = Number(attrs?.['constantValue'] ?? 0);
  const outShape = x.shape.map((d, axis) => d + paddings[axis]![0] + paddings[axis]![1]);
  const wasm = backend as unknown as WasmHeapBackend;
  const out = wasm.makeOutput(outShape, x.dtype);
  const from = wasm.typedArrayFromHeap(x);
  const to = wasm.typedArrayFromHeap(out);
  heapPadCalls.count++;
  const plan = padPlan(x.shape, paddings);
  const kernels = Object.is(value, 0) ? wasmHeapKernels(backend as tf.KernelBackend) : undefined;
  if (!kernels) {
    padHere(plan, from, to, value);
    return out;
  }
  const bytes = to.BYTES_PER_ELEMENT;
  const [fromAt, toAt] = [from.byteOffset, to.byteOffset];
  const threads = kernels.threads();
  const total = to.length;
  const calls = (piece: PadSegment[]): KernelCall[] =>
    piece.map((s) =>
      s.kind === 'fill'
        ? { fn: kernels.zeroBytesIndex, args: [toAt + bytes * s.to, bytes * s.elements] }
        : { fn: kernels.padRowsIndex, args: [fromAt + bytes * s.from, toAt + bytes * s.to, s.rows, bytes * plan.run, bytes * plan.before, bytes * plan.after] },
    );
  const parts = elementwiseParts(threads.count, total);
  if (parts > 1) heapPadCalls.threaded++;
  threads.run(cutPlan(plan, total, parts).map(calls));
  return out;
}

/** The plan run here, with TypedArray.set and fill. */
function padHere(plan: PadPlan, from: tf.TypedArray, to: tf.TypedArray, value: number): void {
  const outRun = plan.before + plan.run + plan.after;
  for (const s of plan.segments) {
    if (s.kind === 'fill') {
      to.fill(value, s.to, s.to + s.elements);
      continue;
    }
    for (let row = 0; row < s.rows; row++) {
      const at = s.to + row * outRun;
      to.fill(value, at, at + plan.before);
      to.set(from.subarray(s.from + row * plan.run, s.from + (row + 1) * plan.run), at + plan.before);
      to.fill(value, at + plan.before + plan.run, at + outRun);
    }
  }
}
