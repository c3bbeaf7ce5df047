import type { BackendParity, ParityRun, TensorParity } from '../parity/parity-result.js';
import { backendVerdict, type BackendVerdict, type ComparedTensor, type NotCompared } from '../parity/parity-verdict.js';
import { divergenceLines } from './divergence-lines.js';
import { describeFailure } from './failure-line.js';

const TRAINING_FORWARD: ReadonlySet<TensorParity['kind']> = new Set(['output', 'layer_output', 'weight_after_pass']);

/**
 * Tensor groups, one JUnit test case each per model and backend; `notCompared`: a skipped test
 * case instead when the verdict says that part was not compared.
 */
const GROUPS: Array<{ name: string; holds: (c: ComparedTensor) => boolean; notCompared?: NotCompared['what'] }> = [
  { name: 'outputs', holds: (c) => c.mode === 'end-to-end' && c.tensor.kind === 'output' },
  { name: 'layer outputs', holds: (c) => c.mode === 'end-to-end' && c.tensor.kind === 'layer_output' },
  { name: 'layer outputs, each layer alone', holds: (c) => c.mode === 'layer-alone-forward' },
  { name: 'backward pass, each layer alone', holds: (c) => c.mode === 'layer-alone-backward', notCompared: 'layer-alone gradients' },
  { name: 'gradients wrt inputs', holds: (c) => c.mode === 'end-to-end' && c.tensor.kind === 'grad_input', notCompared: 'gradients' },
  { name: 'gradients wrt weights', holds: (c) => c.mode === 'end-to-end' && c.tensor.kind === 'grad_weight', notCompared: 'gradients' },
  { name: 'gradients wrt layer outputs', holds: (c) => c.mode === 'end-to-end' && c.tensor.kind === 'grad_layer_output', notCompared: 'gradients' },
];

/** A test case's tensors, or why it is a skipped test case (not compared, or not counted). */
interface CaseGroup {
  name: string;
  tensors: TensorParity[];
  skipped?: string;
}

/** The static groups, then training mode's and one per optimizer run after training, as the verdict sorts them. */
function caseGroups(b: BackendParity, verdict: BackendVerdict): CaseGroup[] {
  const notCompared = (what: NotCompared['what']) => verdict.notCompared.find((n) => n.what === what);
  const select = (holds: (c: ComparedTensor) => boolean) => verdict.compared.filter(holds).map((c) => c.tensor);
  const group = (name: string, holds: (c: ComparedTensor) => boolean, skip?: NotCompared['what']): CaseGroup => {
    const missing = skip && notCompared(skip);
    return missing ? { name: `${name} (not compared)`, tensors: [], skipped: missing.reason } : { name, tensors: select(holds) };
  };
  const groups = GROUPS.map((g) => group(g.name, g.holds, g.notCompared));
  if (b.training) {
    const training = notCompared('training');
    if (training) groups.push({ name: 'training mode (not compared)', tensors: [], skipped: training.reason });
    else {
      groups.push(group('training mode: outputs, layer outputs, weights after the pass', (c) => c.mode === 'training' && TRAINING_FORWARD.has(c.tensor.kind)));
      groups.push(group('training mode: gradients', (c) => c.mode === 'training' && !TRAINING_FORWARD.has(c.tensor.kind), 'training gradients'));
    }
  }
  const after = b.afterTraining;
  const afterNotCompared = notCompared('after training');
  if (after && afterNotCompared) groups.push({ name: `after ${after.steps} optimizer steps (not compared)`, tensors: [], skipped: afterNotCompared.reason });
  for (const o of after?.optimizers ?? []) {
    const name = `after ${after!.steps} ${o.optimizer} steps, ${o.implementation}`;
    const run = verdict.notCompared.find((n) => n.what === 'optimizer' && n.optimizer === `${o.optimizer} with ${o.implementation}`);
    if (run) groups.push({ name: `${name} (not compared)`, tensors: [], skipped: run.reason });
    else if (!o.counted) groups.push({ name: `${name} (not counted)`, tensors: [], skipped: `${o.note ?? 'informational'}; ${o.passed ? 'within' : 'outside'} tolerance` });
    else groups.push({ name: `${name}: change of each trainable weight`, tensors: o.tensors });
  }
  return groups;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * JUnit XML for CI systems: a test suite per model, a test case per backend × tensor group,
 * failing with the same localized messages as the terminal report. Unavailable backends are
 * skipped test cases.
 */
export function formatJUnit(run: ParityRun): string {
  const suites = run.models.map((model) => {
    const cases: string[] = [];
    let failures = 0;
    let skipped = run.unavailableBackends.length;
    for (const backend of model.backends) {
      const verdict = backendVerdict(backend);
      const failing = new Map(verdict.failures.map((f) => [f.tensor, f]));
      const groups = caseGroups(backend, verdict);
      for (const group of groups) {
        const { tensors } = group;
        if (group.skipped !== undefined) {
          skipped++;
          cases.push(`    <testcase classname="${escapeXml(model.model)}" name="${escapeXml(`${backend.backend} › ${group.name}`)}"><skipped message="${escapeXml(group.skipped)}"/></testcase>`);
          continue;
        }
        if (tensors.length === 0) continue;
        const failed = tensors.flatMap((t) => failing.get(t) ?? []);
        const name = `${backend.backend} › ${group.name} (${tensors.length} tensors)`;
        const time = (backend.seconds / groups.length).toFixed(3);
        if (failed.length === 0) {
          cases.push(`    <testcase classname="${escapeXml(model.model)}" name="${escapeXml(name)}" time="${time}"/>`);
          continue;
        }
        failures++;
        const first = divergenceLines(model.model, backend).map((l) => `${l}\n`).join('');
        const body = first + failed.map((f) => describeFailure(model.model, backend.backend, f)).join('\n');
        cases.push(
          `    <testcase classname="${escapeXml(model.model)}" name="${escapeXml(name)}" time="${time}">\n` +
            `      <failure message="${escapeXml(`${failed.length} of ${tensors.length} tensors out of tolerance`)}">${escapeXml(body)}</failure>\n` +
            `    </testcase>`,
        );
      }
    }
    for (const u of run.unavailableBackends) {
      cases.push(`    <testcase classname="${escapeXml(model.model)}" name="${escapeXml(`${u.backend} (not run)`)}"><skipped message="${escapeXml(u.reason)}"/></testcase>`);
    }
    return `  <testsuite name="${escapeXml(`keras-bridge parity: ${model.model}`)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="keras-bridge parity">\n${suites.join('\n')}\n</testsuites>\n`;
}
