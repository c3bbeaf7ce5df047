import { AssertionError } from 'node:assert';
import type { BackendName } from '../backends/index.js';
import { checkBundleParityCases } from '../parity/check-parity.js';
import type { ModelParity } from '../parity/parity-result.js';
import { backendVerdict } from '../parity/parity-verdict.js';
import type { Tolerance } from '../parity/tolerance.js';
import { TolerancePolicy } from '../parity/tolerance-policy.js';
import { divergenceLines } from '../report/divergence-lines.js';
import { describeFailure } from '../report/failure-line.js';
import { runErrorLine } from '../report/parity-table.js';

export interface ExpectParityOptions {
  /** Default: ['cpu']. */
  backends?: BackendName[];
  /** Overrides the per-dtype defaults (give both atol and rtol). */
  tolerance?: Tolerance;
  /** A --tolerances JSON file (per-backend, per-layer, decision statistic). */
  tolerancesFile?: string;
  /** A converted model directory to load instead of converting the bundle in memory. */
  modelDir?: string;
  /**
   * Resolve when every compared tensor passes even though tfjs could not differentiate a layer
   * (an operation without a tfjs gradient) and the gradients were not compared. Default: false,
   * which throws, naming the operation and the layer.
   */
  allowGradientsNotCompared?: boolean;
}

/**
 * For users' test suites (mocha, jest, node:test): resolves with the parity results (of the first size, for a model whose goldens were recorded at several: every size is checked) when every
 * output, layer output and gradient of the bundle matches Keras on every backend (in training
 * mode and after training too, where the bundle has those goldens), and otherwise
 * throws an AssertionError with the same localized message as `keras-bridge parity`; also when
 * gradients could not be compared (a layer tfjs cannot differentiate), unless
 * `allowGradientsNotCompared`.
 * Register your custom layers (import the module that calls registerLayer) first.
 *
 *   import { expectParity } from 'keras-bridge/testing';
 *   it('matches Keras', () => expectParity('bundles/my_model', { backends: ['cpu', 'wasm'] }));
 */
export async function expectParity(bundleDir: string, options: ExpectParityOptions = {}): Promise<ModelParity> {
  const policy = options.tolerancesFile
    ? await TolerancePolicy.fromFile(options.tolerancesFile, options.tolerance)
    : new TolerancePolicy({}, options.tolerance);
  // A model with open input dimensions may have goldens at several sizes: each must hold.
  const results = await checkBundleParityCases(options.modelDir ? { bundleDir, modelDir: options.modelDir } : bundleDir, {
    backends: options.backends ?? ['cpu'],
    policy,
  });
  for (const result of results) assertCase(result, options);
  return results[0]!;
}

/** Throws the AssertionError for one golden case's result unless it passed (or is incomplete and that is allowed). */
function assertCase(result: ModelParity, options: ExpectParityOptions): void {
  if (result.outcome === 'pass') return;
  const verdicts = result.backends.map((b) => ({ b, verdict: backendVerdict(b) }));
  if (result.outcome === 'incomplete') {
    if (options.allowGradientsNotCompared) return;
    const reasons = verdicts.flatMap(({ b, verdict }) =>
      verdict.notCompared.filter((n) => n.incomplete).map((n) => `${b.backend}${n.what === 'training gradients' ? ', training mode' : ''}: ${n.reason}`),
    );
    throw new AssertionError({
      message:
        `keras-bridge parity: every compared tensor of ${result.model} is within tolerance, but its gradients were NOT compared ` +
        `(pass allowGradientsNotCompared: true to accept that)\n${reasons.join('\n')}`,
      actual: 'incomplete',
      expected: 'pass',
      operator: 'expectParity',
    });
  }
  // Every failure in every mode (end to end, each layer alone forward and backward, training, after training), as the CLI lists them.
  const lines = [
    ...result.conversionWarnings.map((w) => `${result.model}: conversion warning: ${w}`),
    ...verdicts.flatMap(({ b, verdict }) => [
      ...(b.runError !== undefined ? [runErrorLine(result.model, b)] : []),
      ...divergenceLines(result.model, b),
      ...verdict.failures.map((f) => describeFailure(result.model, b.backend, f)),
    ]),
  ];
  const failed = verdicts.reduce((n, { verdict }) => n + verdict.failures.length, 0);
  const notRun = result.backends.filter((b) => b.runError !== undefined).map((b) => b.backend);
  const couldNotRun = notRun.length > 0 ? ` (${notRun.join(', ')} could not run it)` : '';
  throw new AssertionError({
    message: `keras-bridge parity: ${failed} tensors of ${result.model} out of tolerance${couldNotRun}\n${lines.join('\n')}`,
    actual: failed,
    expected: 0,
    operator: 'expectParity',
  });
}
