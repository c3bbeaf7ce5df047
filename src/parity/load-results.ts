import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { parseUntrustedJson } from '../keras/json-limits.js';
import { describeZodIssue, formatZodPath } from '../keras/zod-issues.js';
import { parityModes } from './modes/index.js';
import { worstOutcome, type ParityOutcome, type ParityRun } from './parity-result.js';
import { backendVerdict } from './parity-verdict.js';
import { RESULTS_SCHEMA, RESULTS_SCHEMA_VERSION, parityRunSchema } from './results-schema.js';

/** Larger than any run's results (a thousand-layer model's are a few MB), and below V8's longest string. */
export const MAX_RESULTS_BYTES = 256 * 1024 * 1024;

/**
 * Reads saved parity results (`parity --json FILE`): version 2, or version 1 upgraded to it (old
 * saved results still render). Any other file, a field of the wrong type, or an outcome that its
 * tensors contradict is an InputError naming the file and the field's JSON path.
 */
export async function loadParityResults(file: string): Promise<ParityRun> {
  const info = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`${file}: cannot read the results file (${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}).`);
  });
  if (!info.isFile()) throw new InputError(`${file}: not a results file (${info.isDirectory() ? 'a directory' : 'not a regular file'}); give the file 'parity --json' wrote.`);
  if (info.size > MAX_RESULTS_BYTES) throw new InputError(`${file}: ${info.size} bytes, more than the ${MAX_RESULTS_BYTES} a results file may have.`);
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`${file}: cannot read the results file (${e.code ?? e.message}).`);
  });
  return parseParityResults(parseUntrustedJson(text, file), file);
}

/** The checks of loadParityResults on an already parsed document; `where` names it in messages. */
export function parseParityResults(document: unknown, where: string): ParityRun {
  if (!isRecord(document) || document['schema'] !== RESULTS_SCHEMA) {
    const found = isRecord(document) ? `schema ${JSON.stringify(document['schema'] ?? null)?.slice(0, 80)}` : 'not a JSON object';
    throw new InputError(`${where}: not keras-bridge parity results (${found}; expected schema '${RESULTS_SCHEMA}', what 'parity --json' writes).`);
  }
  const version = document['schemaVersion'];
  if (version !== 1 && version !== RESULTS_SCHEMA_VERSION) {
    throw new InputError(
      `${where}: field 'schemaVersion': ${JSON.stringify(version ?? null)?.slice(0, 80)} is not a version this keras-bridge reads (1 or ${RESULTS_SCHEMA_VERSION}); a newer keras-bridge may read it.`,
    );
  }
  const upgraded = version === 1 ? upgradeV1(document) : document;
  const parsed = parityRunSchema.safeParse(upgraded);
  if (!parsed.success) throw new InputError(`${where}: ${describeZodIssue(parsed.error.issues[0]!)} (schema ${RESULTS_SCHEMA} v${version}).`);
  checkOutcomes(parsed.data, where);
  return parsed.data;
}

/**
 * Version 1 to 2, in place of the parsed copy: `outcome` from `passed` where it predates outcome;
 * the fields later v1 writers added, as null or [] (what v2 writes when there is nothing to
 * report); and the statistics JSON.stringify wrote as null for Infinity back to Infinity (v1 had
 * no encoding for non-finite numbers; these error statistics are never NaN), losses as NaN.
 * Anything not shaped as v1 is left for the schema to name.
 */
function upgradeV1(run: Record<string, unknown>): Record<string, unknown> {
  const withOutcome = (o: Record<string, unknown>) => {
    if (o['outcome'] === undefined && typeof o['passed'] === 'boolean') o['outcome'] = o['passed'] ? 'pass' : 'fail';
  };
  const fill = (o: unknown, fields: Record<string, () => unknown>) => {
    if (!isRecord(o)) return;
    for (const [field, value] of Object.entries(fields)) if (o[field] === undefined) o[field] = value();
  };
  const upgradeTensors = (tensors: unknown) => {
    for (const t of records(tensors)) {
      fill(t, { float64Error: () => null, kernelVariantError: () => null });
      if (!isRecord(t['comparison'])) continue;
      for (const stat of INFINITE_AS_NULL) if (t['comparison'][stat] === null) t['comparison'][stat] = Infinity;
    }
  };
  withOutcome(run);
  run['schemaVersion'] = RESULTS_SCHEMA_VERSION;
  for (const model of records(run['models'])) {
    withOutcome(model);
    fill(model, { conversionWarnings: () => [] });
    for (const backend of records(model['backends'])) {
      withOutcome(backend);
      fill(backend, { gradientsNotCompared: () => null, firstDivergingLayerBackward: () => null });
      upgradeTensors(backend['tensors']);
      if (isRecord(backend['isolated'])) {
        upgradeTensors(backend['isolated']['tensors']);
        if (isRecord(backend['isolated']['gradients'])) upgradeTensors(backend['isolated']['gradients']['tensors']);
      }
      for (const section of isRecord(backend['modes']) ? Object.values(backend['modes']) : []) if (isRecord(section)) upgradeTensors(section['tensors']);
      const training = backend['training'];
      fill(training, { gradientsNotCompared: () => null, firstDivergingLayer: () => null, firstDivergingLayerBackward: () => null });
      if (isRecord(training)) upgradeTensors(training['tensors']);
      const afterTraining = backend['afterTraining'];
      for (const optimizer of isRecord(afterTraining) ? records(afterTraining['optimizers']) : []) {
        upgradeTensors(optimizer['tensors']);
        if (!isRecord(optimizer['losses'])) continue;
        for (const side of ['keras', 'tfjs']) {
          const losses = optimizer['losses'][side];
          if (Array.isArray(losses)) optimizer['losses'][side] = losses.map((l: unknown) => (l === null ? NaN : l));
        }
      }
    }
  }
  return run;
}

const INFINITE_AS_NULL = ['maxAbsError', 'meanAbsError', 'medianAbsError', 'quantileAbsError', 'maxRelError', 'minPassingAtol', 'maxToleranceRatio'];

/**
 * Each outcome is what its parts make it (backendVerdict, the one rule; a model's the worst of its
 * backends', the run's of its models'): a results file whose outcome says pass over a failing
 * tensor was edited or damaged, and `report` would exit 0 on it.
 */
function checkOutcomes(run: ParityRun, where: string): void {
  const contradicts = (path: Array<string | number>, saved: string, derived: string, from: string) =>
    new InputError(`${where}: field '${formatZodPath(path)}': '${saved}', but ${from} make it '${derived}' (the file was edited or damaged).`);
  const registered = new Set(parityModes().map((mode) => mode.name));
  run.models.forEach((model, m) => {
    model.backends.forEach((backend, b) => {
      const derived = backendVerdict(backend).outcome;
      // A section of a mode not registered here (registered by the run's own code) is not read by
      // the verdict: it may make the outcome worse than the rest shows, never better.
      const unread = Object.keys(backend.modes ?? {}).some((name) => !registered.has(name));
      const agrees = unread ? RANK[backend.outcome] >= RANK[derived] : backend.outcome === derived;
      if (!agrees) throw contradicts(['models', m, 'backends', b, 'outcome'], backend.outcome, derived, 'its tensors');
    });
    const derived = worstOutcome(model.backends.map((b) => b.outcome));
    if (model.outcome !== derived) throw contradicts(['models', m, 'outcome'], model.outcome, derived, 'its backends');
  });
  // A run where no backend could run has no models and fails: nothing was compared.
  if (run.models.length > 0) {
    const derived = worstOutcome(run.models.map((m) => m.outcome));
    if (run.outcome !== derived) throw contradicts(['outcome'], run.outcome, derived, 'its models');
  }
}

const RANK: Record<ParityOutcome, number> = { pass: 0, incomplete: 1, fail: 2 };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function records(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}
