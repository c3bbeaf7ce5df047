import { parityModes, type ReportGroup } from '../parity/modes/index.js';
import type { BackendParity, ParityRun } from '../parity/parity-result.js';
import { backendVerdict, type BackendVerdict } from '../parity/parity-verdict.js';
import { divergenceLines } from './divergence-lines.js';
import { describeFailure } from './failure-line.js';
import { runErrorLine } from './parity-table.js';

/**
 * The test cases of one backend: every registered mode's report groups, forward before backward
 * (each group's rank), a skipped test case where the verdict says a part was not compared.
 */
function caseGroups(b: BackendParity, verdict: BackendVerdict): ReportGroup[] {
  // Array.prototype.sort is stable: groups of equal rank keep their modes' order.
  return parityModes()
    .flatMap((mode) => mode.reportGroups(b, verdict.notCompared))
    .sort((x, y) => x.rank - y.rank);
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
      if (backend.runError !== undefined) {
        failures++;
        cases.push(
          `    <testcase classname="${escapeXml(model.model)}" name="${escapeXml(`${backend.backend} › runs the model`)}" time="${backend.seconds.toFixed(3)}">\n` +
            `      <failure message="${escapeXml('could not run; nothing compared')}">${escapeXml(runErrorLine(model.model, backend))}</failure>\n` +
            `    </testcase>`,
        );
        continue;
      }
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
