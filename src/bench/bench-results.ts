import type { BatchTimings } from './time-model.js';
import type { Timing } from './timing.js';
import type { WasmFmaPeak } from './wasm-fma-peak.js';

/** What `npm run bench` measured in one run: written as JSON (--out), rendered as the table and docs/performance.md. */
export interface BenchResults {
  schema: 'keras-bridge-bench';
  schemaVersion: 1;
  date: string;
  machine: {
    cpu: string;
    cores: number;
    node: string;
    tfjs: string;
    keras: string | null;
    tensorflow: string | null;
    /**
     * What keras-bridge's build gave tfjs-node's binding (scripts/build-native-backend.mjs), e.g.
     * "zero-copy reads, fused kernels, reads released when dropped" (the last since the
     * thirty-fifth session): the tensorflow timings depend on it. Null when the native
     * backend is not built; absent in results from before it was recorded.
     */
    tensorflowBinding?: string | null;
    /**
     * How keras-bridge's wasm SIMD product tiles multiply and add in this Node (relaxed-simd.ts):
     * "fused multiply-add" or "separate multiply and add"; the wasm timings depend on it. Absent in
     * results from before it was recorded.
     */
    wasmProducts?: string;
    /** The register-bound peak of wasm's 128-bit multiply-adds on the wasm backend's threads (wasm-fma-peak.ts); absent in results from before it was measured. */
    wasmFmaPeak?: WasmFmaPeak;
  };
  /** warmupS: absent in results from before warm-ups were timed (one warm-up run). */
  /**
   * minTimeS: absent in results from before timings had a minimum time (`repeats` runs at most);
   * conversionRuns: absent from before conversions were repeated (one run each, and one baseline).
   */
  settings: { batchSizes: number[]; repeats: number; budgetS: number; warmupS?: number; minTimeS?: number; conversionRuns?: number };
  models: BenchModel[];
  /** `keras-bridge convert` of synthetic models of growing size (absent in runs from before it was measured). */
  conversionScaling?: ScalingBench[];
}

/**
 * One synthetic model's conversion from its .keras file (fixtures/models/synthetic_models.py),
 * next to a plain copy of the same file in the same run: the disk's own speed, which bounds ours.
 */
export interface ScalingBench {
  model: string;
  weightBytes: number;
  fileBytes: number;
  wallS: number;
  /** The process's whole peak RSS, and that of a `keras-bridge convert --help` (Node, tfjs and the converter loaded). */
  peakRssMb: number;
  baselinePeakRssMb: number;
  /** `cp` of the .keras file to the same disk, fsync'd by neither. */
  copyWallS: number;
}

/** The four ways Keras runs (scripts/bench_keras.py). */
export const KERAS_WAYS = ['function_forward', 'function_backward', 'eager_forward', 'eager_backward'] as const;
export type KerasWay = (typeof KERAS_WAYS)[number];

export interface BenchModel {
  name: string;
  factory: string;
  parameters: number;
  weightBytes: number;
  keras: Record<string, Record<KerasWay, Timing>>;
  /** Per backend: forward and forward + backward per batch size, or why the cell did not run. */
  backends: Record<string, BackendBench | { skipped: string }>;
  conversion: ConversionBench[];
  parity: ParityBench[];
  /**
   * Multiply-adds of the forward pass's products per batch size (product-macs.ts), counted on one
   * backend's kernels; absent in results from before they were counted.
   */
  forwardProductMacs?: Record<string, number>;
}

/** The prefix of the line a bench worker prints as each batch size is done (bench-worker.ts). */
export const BATCH_LINE = 'BATCH';

/**
 * The skip reason of a backward pass a worker's `BATCH` line reports before it ran (the line after
 * the forward pass): if the worker is stopped before the next line, the bench puts why in its place.
 */
export const PASS_PENDING = 'pending';

export interface BackendBench {
  /** Null when the worker failed after some batch sizes (their figures are kept). */
  loadMs: number | null;
  /**
   * Per batch size: each pass, and, since the thirty-sixth session, Keras's tf.function of the same
   * pass timed in alternation with it (kerasAlongside; the default, --alone for none), which its
   * ratio is then taken to.
   */
  batches: Record<string, BatchTimings>;
  /** Tensors alive after the timed runs, less those before: 0 when nothing leaks; null when the worker failed. */
  leakedTensors: number | null;
  /** The worker process's peak RSS; null for a browser backend (its page shares Chromium's processes). */
  peakRssMb: number | null;
  /** What the backend ran on, where it says (wasm's XNNPACK threads, webgpu's adapter); absent in older runs. */
  details?: string;
  /** The forward pass's product multiply-adds per batch size, where the cell was asked to count them (bench.ts moves them to the model). */
  forwardProductMacs?: Record<string, number>;
}

/** `keras-bridge convert` of the model, as a user runs it: wall time and peak memory of the process. */
export interface ConversionBench {
  from: '.keras' | 'bundle';
  inputBytes: number;
  /** The median of `runs` conversions (one before the twenty-seventh session). */
  wallS: number;
  /** The fastest and slowest of them, where there were several. */
  wallRangeS?: [number, number];
  runs?: number;
  /**
   * The process's peak RSS less that of a `keras-bridge convert --help` (Node, tfjs and the converter
   * loaded, nothing converted; a `keras-bridge --help` before the twenty-sixth session, which loaded
   * every command): since the thirty-seventh session the median over runs of each less its own baseline's.
   */
  peakRssOverBaselineMb: number;
  /** The median wall time of a `keras-bridge convert --help` run just before each conversion (absent before the thirty-seventh session: one baseline for the whole bench). */
  baselineWallS?: number;
  /** The median over runs of (conversion's wall time - its baseline's). */
  workS?: number;
  /** Weight bytes / workS (before the thirty-seventh session: the median wall time less the bench's one baseline median). */
  weightMbPerS: number;
}

/** `keras-bridge parity BUNDLE --backend B`: every tensor, every mode, conversion included. */
export interface ParityBench {
  backend: string;
  wallS: number | null;
  exitCode: number | null;
  tensors: number | null;
  /** Why there is no time: it ran past the timeout, or failed. */
  note: string | null;
}
