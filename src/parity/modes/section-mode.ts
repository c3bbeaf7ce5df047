import type { GoldenTensorRecord } from '../../keras/bundle-manifest.js';
import { compareWithGoldens } from '../compare-with-goldens.js';
import type { ComputedTensor } from '../evaluate-model.js';
import type { ModeSection } from '../parity-result.js';
import type { NotCompared, ParityModeDefinition } from './parity-mode.js';

/** What a section mode's evaluation gives: tensors keyed as the goldens are, or why none were computed. */
export interface SectionEvaluation {
  computed: Map<string, ComputedTensor>;
  notCompared: string | null;
}

/** How a section mode reads in results and reports. */
export interface SectionModeSpec {
  /** The mode's name, and its section's key in the backend's `modes`. */
  name: string;
  /** Its NotCompared `what` ("native graph"). */
  what: string;
  /** How its summary line names it ("native graph (SavedModel)"). */
  summaryTitle: string;
  /** What its tensors are, in the summary line ("outputs", "gradients"). */
  noun: string;
  /** Its JUnit group's name; " (not compared)" is added when it compared nothing. */
  group: string;
  rank: number;
  /** Put before each compared tensor's label ("native graph"). */
  labelPrefix: string;
  /** Which goldens it compares, given its evaluation. */
  compares(golden: GoldenTensorRecord, evaluation: SectionEvaluation): boolean;
}

/**
 * Everything but `name`, `title` and `evaluate` of a mode whose results are one section of the
 * backend's `modes`: its tensors compared with the goldens under the end-to-end tolerances, or why
 * it compared none (reported, not counted). The native graph's modes and the traced graph's.
 */
export function sectionMode(spec: SectionModeSpec): Omit<ParityModeDefinition<SectionEvaluation>, 'name' | 'title' | 'evaluate'> {
  const section = (b: { modes?: Record<string, ModeSection> }): ModeSection | undefined => b.modes?.[spec.name];
  return {
    compare({ bundle, backend, policy }, evaluation, draft) {
      if (!evaluation) return;
      const tensors = evaluation.notCompared
        ? []
        : compareWithGoldens(bundle, evaluation.computed, backend, policy, (g) => spec.compares(g, evaluation)).map((t) => ({ ...t, label: `${spec.labelPrefix} ${t.label}` }));
      draft.modes = { ...draft.modes, [spec.name]: { tensors, notCompared: evaluation.notCompared } };
    },
    compared: (b) => (section(b)?.tensors ?? []).map((tensor) => ({ mode: spec.name, tensor, counted: true })),
    notCompared: (b): NotCompared[] => {
      const why = section(b)?.notCompared;
      return why ? [{ what: spec.what, reason: why, incomplete: false }] : [];
    },
    tableRows: true,
    summaryLines(model, b) {
      const s = section(b);
      if (!s) return [];
      if (s.notCompared) return [`${model} on ${b.backend}: ${spec.summaryTitle} not compared: ${s.notCompared}`];
      const failed = s.tensors.filter((t) => !t.comparison.passed).length;
      return [`${model} on ${b.backend}: ${spec.summaryTitle}: ${s.tensors.length - failed} of ${s.tensors.length} ${spec.noun} within tolerance`];
    },
    divergenceLines: () => [],
    reportGroups(b, notCompared) {
      const s = section(b);
      if (!s) return [];
      const skipped = notCompared.find((n) => n.what === spec.what);
      return [skipped ? { name: `${spec.group} (not compared)`, tensors: [], skipped: skipped.reason, rank: spec.rank } : { name: spec.group, tensors: s.tensors, rank: spec.rank }];
    },
    chartSeries: [],
  };
}
