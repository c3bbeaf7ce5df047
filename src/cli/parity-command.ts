import { describeBackends, isBackendName, type BackendName } from '../backends/index.js';
import { EXIT } from '../exit-codes.js';
import type { ParityRun } from '../parity/parity-result.js';
import { runParity } from '../parity/run-parity.js';
import type { Tolerance } from '../parity/tolerance.js';
import { TolerancePolicy } from '../parity/tolerance-policy.js';
import { createProgress, type Progress } from '../report/progress.js';
import { formatParityTable } from '../report/parity-table.js';
import { EXIT_CODES_HELP, UsageError, listFlag, numberFlag, stringFlag, type Command, type FlagSpec, type ParsedArgs } from './command.js';
import { customLayersFlag, loadCustomLayerModules } from './custom-layer-modules.js';
import { parseRoutesFlag } from './routes-flag.js';
import { reportFormatFlags, writeReportFiles } from './report-format-flags.js';
import { commandSummary } from './command-index.js';

export const parityCommand: Command = {
  name: 'parity',
  summary: commandSummary('parity'),
  usage: 'parity BUNDLE... [--backend cpu,wasm,tensorflow] [--atol A --rtol R] [--json FILE]',
  // A getter: the report formats registered when the arguments are parsed, tests' included.
  get flags() {
    return {
      backend: { type: 'string', value: 'LIST', description: 'comma-separated tfjs backends (listed below)', default: 'cpu' },
      atol: { type: 'string', value: 'A', description: 'absolute tolerance for every tensor (give --rtol too); default: per dtype, see docs/tolerances.md' },
      rtol: { type: 'string', value: 'R', description: 'relative tolerance for every tensor (give --atol too)' },
      ...reportFormatFlags('also write'),
      tolerances: { type: 'string', value: 'FILE', description: 'JSON with per-backend and per-layer tolerances and the decision statistic (docs/tolerances.md)' },
      shard: { type: 'string', value: 'I/N', description: 'run only shard I of N of the (bundle × backend) pairs, to split a run across CI jobs' },
      'custom-layers': customLayersFlag,
      'model-dir': {
        type: 'string',
        value: 'DIR',
        description: "check this converted model directory (what 'keras-bridge convert' wrote, custom-layers.js included) instead of converting BUNDLE again; one BUNDLE only",
      },
      routes: {
        type: 'string',
        value: 'LIST',
        description: "custom-layer routes conversion may use for layers with no registered TypeScript class, in this order: translate (route 1, TypeScript generated from the layer's Python source), retrace (route 2, symbolic re-trace), graph (route 3, TensorFlow graph fallback); default translate,retrace,graph (docs/custom-layer-routes.md)",
      },
      'fold-batch-norm': {
        type: 'boolean',
        description:
          "convert as 'keras-bridge convert --fold-batch-norm' does and check that model: outputs, input gradients and every layer's output, a folded layer's against the last layer it absorbed; not the folded weights' gradients, nor training mode (docs/inference-rewrites.md). A --model-dir converted so is checked so without it",
      },
      'no-color': { type: 'boolean', description: 'plain text output (also when NO_COLOR is set or stdout is not a terminal)' },
      help: { type: 'boolean', description: 'show this help' },
    } satisfies Record<string, FlagSpec>;
  },
  details: ['An element passes when |tfjs - keras| <= atol + rtol * |keras|; NaN or Inf never passes.', '', 'Backends:', ...describeBackends(), '', ...EXIT_CODES_HELP],
  async run(args) {
    if (args.positionals.length === 0) throw new UsageError("keras-bridge parity: give at least one BUNDLE directory. See 'keras-bridge parity --help'.");
    const customLayerModules = listFlag(args, 'custom-layers');
    await loadCustomLayerModules(customLayerModules);
    const tolerance = parseTolerance(args);
    const tolerancesFile = stringFlag(args, 'tolerances');
    const shard = parseShard(stringFlag(args, 'shard'));
    const backends = parseBackends(stringFlag(args, 'backend') ?? 'cpu');
    let progress: Progress | undefined;
    const modelDir = stringFlag(args, 'model-dir');
    if (modelDir && args.positionals.length !== 1) throw new UsageError('keras-bridge parity: --model-dir checks one converted model: give exactly one BUNDLE.');
    if (modelDir && args.values['fold-batch-norm']) {
      throw new UsageError('keras-bridge parity: --fold-batch-norm converts the bundle; a --model-dir is checked as it was converted (its model.json lists its rewrites). Give one of them.');
    }
    const run = await runParity(modelDir ? [{ bundleDir: args.positionals[0]!, modelDir }] : args.positionals, {
      backends,
      tolerance,
      ...(tolerancesFile ? { policy: await TolerancePolicy.fromFile(tolerancesFile, tolerance) } : {}),
      ...(shard ? { shard } : {}),
      requireAllBackends: true,
      customLayerModules,
      routes: parseRoutesFlag(stringFlag(args, 'routes')),
      ...(args.values['fold-batch-norm'] ? { foldBatchNorm: true } : {}),
      onPlan: (steps) => (progress = createProgress(steps)),
      onBackend: (model, backend) => progress?.step(`${model} on ${backend}`),
      onStage: (stage) => progress?.stage(stage),
    });
    progress?.done();
    await writeReportFiles(args, run, [...args.positionals, ...(modelDir ? [modelDir] : [])]);
    process.stdout.write(formatParityTable(run, useColor(args)) + '\n');
    return parityExitCode(run);
  },
};

/** ok, parity_failure (a tensor out of tolerance), parity_incomplete (every compared tensor within tolerance, gradients not compared). */
export function parityExitCode(run: ParityRun): number {
  return { pass: EXIT.ok, fail: EXIT.parity_failure, incomplete: EXIT.parity_incomplete }[run.outcome];
}

export function parseBackends(list: string): BackendName[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !isBackendName(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError([`--backend: unknown backend '${unknown[0] ?? list}'. The backends:`, ...describeBackends()].join('\n'));
  }
  return names;
}

/** Like torch.testing.assert_close: atol alone could still pass through the default rtol. */
function parseTolerance(args: ParsedArgs): Tolerance | undefined {
  const atol = numberFlag(args, 'parity', 'atol');
  const rtol = numberFlag(args, 'parity', 'rtol');
  if ((atol === undefined) !== (rtol === undefined)) {
    throw new UsageError('keras-bridge parity: give both --atol and --rtol, or neither (one alone would mix with the default of the other).');
  }
  if (atol === undefined || rtol === undefined) return undefined;
  if (atol < 0 || rtol < 0) throw new UsageError('keras-bridge parity: --atol and --rtol must be >= 0.');
  return { atol, rtol };
}

function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(`keras-bridge parity: --shard must be I/N with 1 <= I <= N, got '${text}'.`);
  }
  return { index, count };
}

export function useColor(args: ParsedArgs): boolean {
  return !args.values['no-color'] && !process.env['NO_COLOR'] && Boolean(process.stdout.isTTY);
}
