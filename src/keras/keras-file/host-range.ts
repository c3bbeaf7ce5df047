import { closeSync, openSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InputError } from '../../errors.js';
import type { Hdf5Limits } from './hdf5-limits.js';
import { descriptorSource } from './zip/byte-source.js';
import { checkStoredBytes, type StoredZipEntry } from './zip/zip-archive.js';

/** `check` run once, its outcome (its error, thrown again) kept for every later call. */
export function once(check: () => void): () => void {
  let outcome: { passed: true } | { passed: false; error: unknown } | undefined;
  return () => {
    if (!outcome) {
      try {
        check();
        outcome = { passed: true };
      } catch (e) {
        outcome = { passed: false, error: e };
      }
    }
    if (!outcome.passed) throw outcome.error;
  };
}

/**
 * The zip's CRC-32 check of a stored entry, over the range HDF5 reads, through the descriptor HDF5
 * reads it by: the same bytes even where the file's path was since moved or replaced (a check left
 * for later runs after the open was answered). The range's file stays open (closed with the HDF5 file).
 */
export function checkStoredRange(range: HostRange, entry: StoredZipEntry): void {
  checkStoredBytes(descriptorSource(range.fd), { ...entry, start: range.start, end: range.start + range.length });
}

/** The zip's CRC-32 check of a stored entry, over the range HDF5 is to read; the range's file closed where it fails. */
export function checkEntryRange(range: HostRange, entry: StoredZipEntry): void {
  try {
    checkStoredRange(range, entry);
  } catch (e) {
    closeSync(range.fd);
    throw e;
  }
}

export interface HostRange {
  fd: number;
  start: number;
  length: number;
}

export async function hostRange(content: { path: string; start?: number; length?: number }, file: string, limits: Hdf5Limits): Promise<HostRange> {
  const size = (await stat(content.path).catch(() => undefined))?.size;
  if (size === undefined) throw new InputError(`${file}: cannot read.`);
  const start = content.start ?? 0;
  const length = content.length ?? size - start;
  if (start < 0 || length < 0 || start + length > size) throw new InputError(`${file}: bytes ${start}-${start + length} lie outside its ${size} bytes.`);
  if (content.start === undefined && length > limits.maxTotalBytes) {
    throw new InputError(`${file}: ${length} bytes, more than the ${limits.maxTotalBytes}-byte limit on an HDF5 model file (raise with --max-uncompressed-bytes).`);
  }
  return { fd: openSync(content.path, 'r'), start, length };
}
