/**
 * `npm run bench`'s command line: the flags (docs/performance.md describes each), their defaults,
 * and the refusal of anything else (a mistyped flag would otherwise run hours of everything).
 */
import path from 'node:path';
import { DEFAULT_CONVERSION_RUNS } from './repeated-runs.js';
import { DEFAULT_MIN_TIME_S, DEFAULT_WARMUP_S } from './timing.js';

export interface BenchOptions {
  /** Render these saved results (the table; with --docs, the docs) instead of running. */
  from: string | undefined;
  models: string[] | undefined;
  backends: string[] | undefined;
  parityBackends: string[] | undefined;
  batchSizes: number[];
  repeats: number;
  budgetS: number;
  warmupS: number;
  minTimeS: number;
  parityTimeoutS: number;
  out: string;
  docs: boolean;
  smoke: boolean;
  /** Synthetic models for the conversion scaling: dense_stack_<size> of fixtures/models/synthetic_models.py. */
  conversionSizes: string[];
  /** Runs of each model's conversion, and of the baseline process, whose medians are reported. */
  conversionRuns: number;
  /**
   * Keras's tf.function timed in alternation with each cell's passes (timing.ts,
   * timedAlternating), which the cell's ratios are taken to; false (--alone): every cell divided by
   * the model's Keras figures, timed before its cells, as until the thirty-sixth session.
   */
  alongside: boolean;
}

const CONVERSION_SIZES = ['8mb', '64mb', '256mb', '1gb'];

/** Flags that take a value, and flags that stand alone (docs/performance.md describes each). */
const VALUE_FLAGS = ['from', 'models', 'backends', 'parity-backends', 'batch-sizes', 'repeats', 'budget', 'warmup', 'min-time', 'parity-timeout', 'out', 'conversion-sizes', 'conversion-runs'];
const SWITCHES = ['docs', 'smoke', 'alone', 'help'];

export const BENCH_USAGE = `Usage: npm run bench -- [flags]   (docs/performance.md has each flag in full)

  --models LIST            swish, temporal, risk, resnet50, mobilenet_v2, transformer_encoder, matmul_stack, or none (default: all)
  --backends LIST          backends to time (default: every one that runs here)
  --batch-sizes LIST       default 1,32
  --repeats N              timed runs per cell (default 10)
  --budget S               seconds per timing at most (default 60)
  --warmup S               seconds of warm-up runs before each timing (default ${DEFAULT_WARMUP_S})
  --min-time S             seconds each timing's runs last at least: more runs than --repeats, up to 500 (default ${DEFAULT_MIN_TIME_S})
  --parity-backends LIST   backends whose full parity run is timed (default: the Node backends timed), or none
  --parity-timeout S       default 600
  --conversion-sizes LIST  8mb, 64mb, 256mb, 1gb, or none (default 64mb,256mb,1gb)
  --conversion-runs N      runs of each model's conversion, each just after a run of the baseline process; medians reported (default ${DEFAULT_CONVERSION_RUNS})
  --alone                  time each cell alone, its ratios to the model's Keras row (default: its runs alternated with Keras's tf.function's)
  --out FILE               results JSON (default bench-results/latest.json)
  --from FILE              print (and with --docs write) saved results instead of running
  --docs                   rewrite docs/performance.md's latest section and docs/performance.svg
  --smoke                  one run of each stage on the seed models
  --help                   this text`;

/** Refuses a flag the bench does not know (a typo would otherwise run hours of everything). */
function checkFlags(argv: string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && VALUE_FLAGS.includes(name)) {
      if (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) throw new Error(`bench: --${name} needs a value\n\n${BENCH_USAGE}`);
      i++;
    } else if (name === undefined || !SWITCHES.includes(name)) {
      throw new Error(`bench: unknown argument '${arg}'\n\n${BENCH_USAGE}`);
    }
  }
}

/** The bench's options from its command line (without `node bench.js`); `root` is the repository, where results go by default. */
export function parseBenchOptions(argv: string[], root: string): BenchOptions {
  checkFlags(argv);
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (name: string) => value(name)?.split(',').map((s) => s.trim()).filter(Boolean);
  // --warmup 0: one warm-up run, as before warm-ups were timed.
  const zeroAllowed = ['warmup', 'min-time'];
  const number = (name: string, fallback: number) => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed.includes(name))) throw new Error(`bench: --${name} must be a positive number, got '${v}'`);
    return n;
  };
  const smoke = argv.includes('--smoke');
  return {
    from: value('from'),
    models: noneMeansEmpty(list('models')) ?? (smoke ? ['swish', 'temporal', 'risk'] : undefined),
    backends: list('backends'),
    parityBackends: noneMeansEmpty(list('parity-backends')),
    batchSizes: (list('batch-sizes') ?? (smoke ? ['2'] : ['1', '32'])).map(Number),
    repeats: number('repeats', smoke ? 1 : 10),
    budgetS: number('budget', smoke ? 5 : 60),
    warmupS: number('warmup', smoke ? 0 : DEFAULT_WARMUP_S),
    minTimeS: number('min-time', smoke ? 0 : DEFAULT_MIN_TIME_S),
    parityTimeoutS: number('parity-timeout', smoke ? 120 : 600),
    out: value('out') ?? path.join(root, 'bench-results', smoke ? 'smoke.json' : 'latest.json'),
    docs: argv.includes('--docs'),
    smoke,
    conversionSizes: conversionSizes(list('conversion-sizes') ?? (smoke ? ['8mb'] : ['64mb', '256mb', '1gb'])),
    conversionRuns: wholeNumber('conversion-runs', number('conversion-runs', smoke ? 1 : DEFAULT_CONVERSION_RUNS)),
    alongside: !argv.includes('--alone'),
  };
}

function wholeNumber(name: string, n: number): number {
  if (!Number.isInteger(n)) throw new Error(`bench: --${name} must be a whole number, got '${n}'`);
  return n;
}

/** `--models none`: only the conversion scaling; `--parity-backends none`: no parity runs. */
function noneMeansEmpty(list: string[] | undefined): string[] | undefined {
  return list?.length === 1 && list[0] === 'none' ? [] : list;
}

function conversionSizes(sizes: string[]): string[] {
  if (sizes.length === 1 && sizes[0] === 'none') return [];
  const unknown = sizes.find((s) => !CONVERSION_SIZES.includes(s));
  if (unknown) throw new Error(`bench: unknown conversion size '${unknown}'; the sizes: ${CONVERSION_SIZES.join(', ')}, or none`);
  return sizes;
}
