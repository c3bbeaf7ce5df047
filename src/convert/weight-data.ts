/**
 * One weight's bytes as a conversion reads them: already in memory (a bundle loaded whole, a test),
 * or read from the model file only when the converter writes that weight, so that converting a
 * model never holds all of its weights at once (docs/performance.md, "Conversion").
 */
export interface WeightData {
  /** The stored bytes' length, known before they are read. */
  readonly byteLength: number;
  /** The raw little-endian bytes; each call may read them again. */
  read(): Promise<Uint8Array>;
  /** Says that bytes `read` returned are no longer used (their memory may serve the next read). */
  release?(bytes: Uint8Array): void;
  /**
   * Writes the raw bytes into `ranges` of files that already exist (in order: the first range
   * takes the first bytes), without handing them to the caller: a model file's reader thread
   * writes them to the shards itself (weight-stream.ts). `allFinite`: float32 bytes, every value
   * finite (else, or for other dtypes, false: the caller reads them to say more).
   */
  copyTo?(ranges: readonly FileRange[]): Promise<{ allFinite: boolean }>;
}

/** Bytes `length` long at `position` of the existing file at `path` (a conversion's own shard). */
export interface FileRange {
  path: string;
  position: number;
  length: number;
}

/** Bytes already in memory, readable synchronously too (`bytes`). */
export interface InMemoryWeightData extends WeightData {
  readonly bytes: Uint8Array;
}

export function inMemory(bytes: Uint8Array): InMemoryWeightData {
  return { bytes, byteLength: bytes.length, read: () => Promise.resolve(bytes) };
}
