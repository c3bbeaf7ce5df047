import type { TensorParity } from '../parity-result.js';
import type { NotCompared, ReportGroup } from './parity-mode.js';

/** A JUnit test case of `tensors`, or a skipped one named "… (not compared)" when `notCompared` lists `skipWhen`. */
export function reportGroup(name: string, rank: number, tensors: TensorParity[], notCompared: NotCompared[] = [], skipWhen?: string): ReportGroup {
  const missing = skipWhen === undefined ? undefined : notCompared.find((n) => n.what === skipWhen);
  return missing ? { name: `${name} (not compared)`, tensors: [], skipped: missing.reason, rank } : { name, tensors, rank };
}
