import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { PythonExportError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { EXIT, exitCodeName } from '../exit-codes.js';
import { describeZodIssue } from '../keras/zod-issues.js';
import { exportOptionsSchema, type ExportOptionsInput } from './export-options.js';
import { withoutDefaultedEnvironment } from '../backends/environment-defaults.js';

/**
 * The export options document (export-options.ts; Python reads the same fields), and how to run Python.
 * The document's fields are exportOptionsSchema's: a new export option is a field there, not here.
 */
export type PythonExportOptions = ExportOptionsInput & {
  python?: string;
  timeoutSeconds?: number;
  /** Receives each line the exporter prints to stderr (its progress and errors). */
  onProgress?: (line: string) => void;
};

/**
 * TensorFlow's C++ start-up notices, printed even with TF_CPP_MIN_LOG_LEVEL=3 (only disabling
 * oneDNN, which changes numerics, silences them). They are not the exporter's progress.
 */
const TENSORFLOW_STARTUP_NOISE = [/^WARNING: All log messages before absl::InitializeLog\(\)/, /^I0000 .*oneDNN custom operations are on/];

export const DEFAULT_EXPORT_TIMEOUT_SECONDS = 600;
const MAX_KEPT_LINES = 200;
const MAX_KEPT_LINE_CHARS = 8 * 1024;

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

/** What `checkPython` needs: the Python and Keras versions keras_bridge is built for (python/pyproject.toml, requirements.lock). */
export const REQUIRED_PYTHON: readonly [number, number] = [3, 11];
export const REQUIRED_KERAS_MAJOR = 3;
const PROBE_TIMEOUT_SECONDS = 60;
/** Prints the versions as one JSON line without importing Keras (seconds) or running anything else. */
const PROBE = [
  'import sys, json, importlib.util, importlib.metadata as m',
  'def v(name):',
  '    try: return m.version(name)',
  '    except Exception: return None',
  'print(json.dumps({"python": list(sys.version_info[:3]), "keras": v("keras"), "keras_bridge": importlib.util.find_spec("keras_bridge") is not None}))',
].join('\n');

const FIX = "Run 'npm run setup' to create .venv with the pinned Python packages, or point --python / KERAS_BRIDGE_PYTHON at a Python 3.11 with keras_bridge installed.";

/**
 * Checks, before the long export, that `python` runs and is a Python >= 3.11 with Keras 3 and
 * keras_bridge installed; a PythonExportError naming what is wrong and the fix otherwise.
 */
export async function checkPython(python: string): Promise<void> {
  const result = await execa(python, ['-c', PROBE], { reject: false, timeout: PROBE_TIMEOUT_SECONDS * 1000, stdout: 'pipe', stderr: 'pipe' });
  const said = boundedTail(`${String(result.stdout ?? '')}\n${String(result.stderr ?? '')}`, 5, 1024);
  if (result.timedOut) throw new PythonExportError(`${python} did not answer a version check within ${PROBE_TIMEOUT_SECONDS} s. ${FIX}`);
  if (result.exitCode !== EXIT.ok) {
    const why = result.exitCode === undefined ? `cannot be started (${escapeControls((result.message ?? "").split('\n')[0] ?? '')})` : result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    throw new PythonExportError(`${python} is not a working Python: a version check ${why}${said ? `:\n  ${said}` : ''}\n${FIX}`);
  }
  let probe: { python?: unknown; keras?: unknown; keras_bridge?: unknown };
  try {
    probe = JSON.parse(String(result.stdout).trim().split('\n').pop() ?? '') as typeof probe;
  } catch {
    throw new PythonExportError(`${python} is not a Python keras-bridge can use: its version check printed ${said ? `\n  ${said}` : 'nothing'}\n${FIX}`);
  }
  const version = Array.isArray(probe.python) ? probe.python.map(Number) : [];
  const [major = 0, minor = 0] = version;
  if (major !== REQUIRED_PYTHON[0] || minor < REQUIRED_PYTHON[1]) {
    throw new PythonExportError(`${python} is Python ${version.join('.') || '(unknown)'}; keras_bridge needs Python ${REQUIRED_PYTHON.join('.')} or newer. ${FIX}`);
  }
  const keras = typeof probe.keras === 'string' ? probe.keras : null;
  if (keras === null) throw new PythonExportError(`${python} (Python ${version.join('.')}) has no Keras installed. ${FIX}`);
  if (Number(keras.split('.')[0]) !== REQUIRED_KERAS_MAJOR) {
    throw new PythonExportError(`${python} has Keras ${escapeControls(keras.slice(0, 40))}; keras_bridge needs Keras ${REQUIRED_KERAS_MAJOR}. ${FIX}`);
  }
  if (probe.keras_bridge !== true) throw new PythonExportError(`${python} has Keras ${keras} but not the keras_bridge package. ${FIX}`);
}

/** Control characters (terminal escape sequences included) as visible escapes. */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The last `maxLines` lines of `text`, at most `maxBytes` of them, escaped: what an error quotes of a child's stderr. */
export function boundedTail(text: string, maxLines = 40, maxBytes = 8 * 1024): string {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  const tail = lines.slice(-maxLines);
  const dropped = lines.length - tail.length;
  let joined = tail.map(escapeControls).join('\n  ');
  let cut = false;
  if (Buffer.byteLength(joined) > maxBytes) {
    joined = Buffer.from(joined).subarray(-maxBytes).toString().replace(/^\uFFFD+/, '');
    cut = true;
  }
  return `${dropped > 0 || cut ? '(earlier output left out)\n  ' : ''}${joined}`;
}

/**
 * Runs `python -m keras_bridge export --options-json -` with the options document on stdin, surfacing
 * its stderr; its exit code is read through the shared table (exit-codes.ts): its internal error stays
 * internal_error, anything else that fails is input_error (a Python that cannot export), never a parity code.
 */
export async function exportWithPython(options: PythonExportOptions): Promise<string> {
  const { python: explicitPython, timeoutSeconds: timeout, onProgress, ...fields } = options;
  const parsed = exportOptionsSchema.safeParse(fields);
  if (!parsed.success) throw new PythonExportError(`export options: ${parsed.error.issues.map(describeZodIssue).join('; ')}`);
  const document = parsed.data;
  if (!document.factory === !document.model) {
    throw new PythonExportError('export: give exactly one of --factory MODULE:FN or --model FILE.keras.');
  }
  const python = resolvePython(explicitPython);
  await checkPython(python);
  const args = ['-m', 'keras_bridge', 'export', '--options-json', '-'];
  const timeoutSeconds = timeout ?? DEFAULT_EXPORT_TIMEOUT_SECONDS;
  const stderrLines: string[] = [];
  const child = execa(python, args, {
    reject: false,
    timeout: timeoutSeconds * 1000,
    // Keras runs with the user's TensorFlow settings, not those keras-bridge gave libtensorflow here.
    env: { ...withoutDefaultedEnvironment(), TF_CPP_MIN_LOG_LEVEL: '3' },
    input: JSON.stringify(document),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      if (TENSORFLOW_STARTUP_NOISE.some((noise) => noise.test(line))) continue;
      // Kept bounded: a child printing without end must not fill our memory.
      stderrLines.push(line.length > MAX_KEPT_LINE_CHARS ? `${line.slice(0, MAX_KEPT_LINE_CHARS)}… (${line.length - MAX_KEPT_LINE_CHARS} more characters)` : line);
      if (stderrLines.length > 2 * MAX_KEPT_LINES) stderrLines.splice(0, stderrLines.length - MAX_KEPT_LINES);
      onProgress?.(escapeControls(line.slice(0, MAX_KEPT_LINE_CHARS)));
    }
  });
  const result = await child;
  const stderrTail = boundedTail(stderrLines.join('\n'));
  const quoted = stderrTail ? `; its last output:\n  ${stderrTail}` : ' (it printed nothing)';
  if (result.timedOut) {
    throw new PythonExportError(`export: the Python exporter timed out after ${timeoutSeconds} s and was stopped (raise the limit with --timeout SECONDS)${quoted}`);
  }
  if (result.exitCode === undefined && result.signal) {
    throw new PythonExportError(`export: the Python exporter crashed (killed by ${result.signal}; ${python})${quoted}`);
  }
  if (result.exitCode !== EXIT.ok) {
    // Its own error lines (`keras-bridge export: error: ...`), or the tail when there are none.
    const errorLines = stderrLines.filter((l) => l.includes('error')).slice(-3);
    const tail = errorLines.length > 0 ? boundedTail(errorLines.join('\n'), 3) : boundedTail(stderrLines.join('\n'));
    const said = tail ? `:\n  ${tail}` : ' (it printed nothing)';
    if (result.exitCode === undefined) {
      throw new PythonExportError(`export: Python exporter could not start ${python}: ${escapeControls((result.message ?? '').split('\n')[0] ?? '')}${said}`);
    }
    const name = exitCodeName(result.exitCode);
    if (name === 'internal_error') {
      throw new PythonExportError(`export: the Python exporter failed with an internal error (a bug in keras_bridge: please report it with this message)${said}`, 'internal_error');
    }
    if (name === 'interrupted_by_sigint' || name === 'interrupted_by_sigterm') {
      throw new PythonExportError(`export: the Python exporter was interrupted by ${name.slice('interrupted_by_'.length).toUpperCase()}; nothing written`, name);
    }
    // input_error is its own verdict on the input; any other code is not the exporter's (the interpreter failed before it ran).
    const cause = `exited with code ${result.exitCode}${name === 'input_error' ? '' : ", not one of keras_bridge's exit codes (its interpreter failed before the exporter ran)"}`;
    throw new PythonExportError(`export: Python exporter ${cause}${said}`);
  }
  return String(result.stdout).trim() || fields.out;
}
