import type { BackendParity, ParityRun, TensorParity } from '../parity/parity-result.js';
import { divergenceLines } from './divergence-lines.js';
import { describeFailure } from './parity-table.js';

/**
 * Tensor groups, one JUnit test case each per model and backend; `gradients`: the end-to-end
 * backward pass's, a skipped test case when tfjs could not differentiate the model.
 */
const GROUPS: Array<{ name: string; select: (b: BackendParity) => TensorParity[]; gradients?: true }> = [
  { name: 'outputs', select: (b) => b.tensors.filter((t) => t.kind === 'output') },
  { name: 'layer outputs', select: (b) => b.tensors.filter((t) => t.kind === 'layer_output') },
  { name: 'layer outputs, each layer alone', select: (b) => b.isolated.tensors },
  { name: 'backward pass, each layer alone', select: (b) => b.isolated.gradients.tensors },
  { name: 'gradients wrt inputs', select: (b) => b.tensors.filter((t) => t.kind === 'grad_input'), gradients: true },
  { name: 'gradients wrt weights', select: (b) => b.tensors.filter((t) => t.kind === 'grad_weight'), gradients: true },
  { name: 'gradients wrt layer outputs', select: (b) => b.tensors.filter((t) => t.kind === 'grad_layer_output'), gradients: true },
];

/** A test case's tensors, or why it is a skipped test case (not compared, or not counted). */
interface CaseGroup {
  name: string;
  tensors: TensorParity[];
  skipped?: string;
}

/** The static groups, then training mode's and one per optimizer run after training. */
function caseGroups(b: BackendParity): CaseGroup[] {
  const groups: CaseGroup[] = GROUPS.map((g) =>
    g.gradients && b.gradientsNotCompared ? { name: `${g.name} (not compared)`, tensors: [], skipped: b.gradientsNotCompared } : { name: g.name, tensors: g.select(b) },
  );
  if (b.training) {
    const { tensors, notCompared, gradientsNotCompared } = b.training;
    const forward = tensors.filter((t) => t.kind === 'output' || t.kind === 'layer_output' || t.kind === 'weight_after_pass');
    const backward = tensors.filter((t) => t.kind === 'grad_input' || t.kind === 'grad_weight');
    if (notCompared !== null) groups.push({ name: 'training mode (not compared)', tensors: [], skipped: notCompared });
    else {
      groups.push({ name: 'training mode: outputs, layer outputs, weights after the pass', tensors: forward });
      groups.push(gradientsNotCompared ? { name: 'training mode: gradients (not compared)', tensors: [], skipped: gradientsNotCompared } : { name: 'training mode: gradients', tensors: backward });
    }
  }
  const after = b.afterTraining;
  if (after?.notCompared) groups.push({ name: `after ${after.steps} optimizer steps (not compared)`, tensors: [], skipped: after.notCompared });
  for (const o of after?.optimizers ?? []) {
    const name = `after ${after!.steps} ${o.optimizer} steps, ${o.implementation}`;
    if (o.notCompared !== null) groups.push({ name: `${name} (not compared)`, tensors: [], skipped: o.notCompared });
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
      const groups = caseGroups(backend);
      for (const group of groups) {
        const { tensors } = group;
        if (group.skipped !== undefined) {
          skipped++;
          cases.push(`    <testcase classname="${escapeXml(model.model)}" name="${escapeXml(`${backend.backend} › ${group.name}`)}"><skipped message="${escapeXml(group.skipped)}"/></testcase>`);
          continue;
        }
        if (tensors.length === 0) continue;
        const failed = tensors.filter((t) => !t.comparison.passed);
        const name = `${backend.backend} › ${group.name} (${tensors.length} tensors)`;
        const time = (backend.seconds / groups.length).toFixed(3);
        if (failed.length === 0) {
          cases.push(`    <testcase classname="${escapeXml(model.model)}" name="${escapeXml(name)}" time="${time}"/>`);
          continue;
        }
        failures++;
        const first = divergenceLines(model.model, backend).map((l) => `${l}\n`).join('');
        const body = first + failed.map((t) => describeFailure(model.model, backend.backend, t)).join('\n');
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
