import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { PythonExportError } from '../errors.js';

export interface PythonExportOptions {
  out: string;
  /** `module:function` returning a built Keras model. */
  factory?: string;
  /** A .keras file; `modules` must then define its custom classes. */
  model?: string;
  modules?: string[];
  /** Directories prepended to Python's sys.path. */
  paths?: string[];
  seed?: number;
  batchSize?: number;
  /** 'auto', 'always' or 'never': grad_layer_output goldens (--layer-gradients; Python checks the value). */
  layerGradients?: string;
  /** `NAME=[LOW:]HIGH`: where golden values of an integer input are drawn from. */
  inputRanges?: string[];
  /** `NAME=D1,D2,...`: the sizes of an input's open dimensions; repeated for one input, several golden cases (--input-shape). */
  inputShapes?: string[];
  /** false: no training-mode goldens (--no-training-mode). */
  trainingMode?: boolean;
  /** Record trainable weights after this many SGD and Adam steps (--train-steps). */
  trainSteps?: number;
  /** Measure each golden's float32 error against a float64 copy of the model and add it to its reference_error (--float64-reference). */
  float64Reference?: boolean;
  /** With float64Reference: also export under Keras's other float32 kernel variants (default true; false: --no-kernel-variants). */
  kernelVariants?: boolean;
  python?: string;
  timeoutSeconds?: number;
  /** Receives each line the exporter prints to stderr (its progress and errors). */
  onProgress?: (line: string) => void;
}

/**
 * TensorFlow's C++ start-up notices, printed even with TF_CPP_MIN_LOG_LEVEL=3 (only disabling
 * oneDNN, which changes numerics, silences them). They are not the exporter's progress.
 */
const TENSORFLOW_STARTUP_NOISE = [/^WARNING: All log messages before absl::InitializeLog\(\)/, /^I0000 .*oneDNN custom operations are on/];

const PACKAGE_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const DEFAULT_EXPORT_TIMEOUT_SECONDS = 600;

/** The Python that has keras_bridge installed: --python, $KERAS_BRIDGE_PYTHON, then our venv. */
export function resolvePython(explicit?: string): string {
  const candidate = explicit ?? process.env['KERAS_BRIDGE_PYTHON'] ?? path.join(PACKAGE_ROOT, '.venv', 'bin', 'python');
  if (!existsSync(candidate)) {
    throw new PythonExportError(
      `Python not found at ${candidate}. Run 'npm run setup' to create the venv with Keras, ` +
        `or point --python / KERAS_BRIDGE_PYTHON at a Python 3.11 with keras_bridge installed.`,
    );
  }
  return candidate;
}

/** Runs `python -m keras_bridge export ...`, surfacing its stderr and exit code. */
export async function exportWithPython(options: PythonExportOptions): Promise<string> {
  if (!options.factory === !options.model) {
    throw new PythonExportError('export: give exactly one of --factory MODULE:FN or --model FILE.keras.');
  }
  const python = resolvePython(options.python);
  const args = ['-m', 'keras_bridge', 'export', '--out', options.out];
  if (options.factory) args.push('--factory', options.factory);
  if (options.model) args.push('--model', options.model);
  for (const m of options.modules ?? []) args.push('--module', m);
  for (const p of options.paths ?? []) args.push('--path', p);
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  if (options.batchSize !== undefined) args.push('--batch-size', String(options.batchSize));
  if (options.layerGradients !== undefined) args.push('--layer-gradients', options.layerGradients);
  for (const range of options.inputRanges ?? []) args.push('--input-range', range);
  for (const shape of options.inputShapes ?? []) args.push('--input-shape', shape);
  if (options.trainingMode === false) args.push('--no-training-mode');
  if (options.trainSteps !== undefined) args.push('--train-steps', String(options.trainSteps));
  if (options.float64Reference === true) args.push('--float64-reference');
  if (options.float64Reference === true && options.kernelVariants === false) args.push('--no-kernel-variants');
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_EXPORT_TIMEOUT_SECONDS;
  const stderrLines: string[] = [];
  const child = execa(python, args, {
    reject: false,
    timeout: timeoutSeconds * 1000,
    env: { TF_CPP_MIN_LOG_LEVEL: '3' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      if (TENSORFLOW_STARTUP_NOISE.some((noise) => noise.test(line))) continue;
      stderrLines.push(line);
      options.onProgress?.(line);
    }
  });
  const result = await child;
  if (result.timedOut) {
    throw new PythonExportError(`export: Python exporter timed out after ${timeoutSeconds} s (raise it with --timeout).`);
  }
  if (result.exitCode !== 0) {
    const errorLines = stderrLines.filter((l) => l.includes('error')).slice(-3);
    const tail = (errorLines.length > 0 ? errorLines : stderrLines.slice(-5)).join('\n  ');
    const cause = result.exitCode === undefined ? `could not start ${python}: ${result.message}` : `exited with code ${result.exitCode}`;
    throw new PythonExportError(`export: Python exporter ${cause}${tail ? `:\n  ${tail}` : ''}`);
  }
  return String(result.stdout).trim() || options.out;
}
