import type { BundleEvaluation } from './evaluate-bundle.js';
import { parityModes, type BackendSectionsDraft, type ModeComparisonContext } from './modes/index.js';
import { NO_ISOLATED_GRADIENTS, NO_ISOLATED_OUTPUTS } from './modes/isolated-section.js';
import type { BackendParity } from './parity-result.js';
import { backendVerdict } from './parity-verdict.js';

/** A backend that could not run the model: nothing compared, the error kept, the outcome 'fail'. */
export function backendThatCouldNotRun(backend: string, error: string, seconds: number): BackendParity {
  return {
    backend,
    outcome: 'fail',
    runError: error,
    gradientsNotCompared: null,
    firstDivergingLayer: null,
    firstDivergingLayerBackward: null,
    isolated: { ...NO_ISOLATED_OUTPUTS, gradients: NO_ISOLATED_GRADIENTS },
    seconds,
    tensors: [],
  };
}

/** One backend's parity: each registered mode compares its evaluation with the goldens, then the one verdict rule decides. */
export function compareBackend(context: ModeComparisonContext, evaluation: BundleEvaluation, seconds: number): BackendParity {
  const draft: BackendSectionsDraft = {};
  for (const mode of parityModes()) mode.compare(context, evaluation[mode.name] ?? null, draft);
  const sections = {
    tensors: draft.tensors ?? [],
    gradientsNotCompared: draft.gradientsNotCompared ?? null,
    firstDivergingLayer: draft.firstDivergingLayer ?? null,
    firstDivergingLayerBackward: draft.firstDivergingLayerBackward ?? null,
    isolated: draft.isolated ?? { ...NO_ISOLATED_OUTPUTS, gradients: NO_ISOLATED_GRADIENTS },
    ...(draft.training ? { training: draft.training } : {}),
    ...(draft.afterTraining ? { afterTraining: draft.afterTraining } : {}),
    ...(draft.modes ? { modes: draft.modes } : {}),
  };
  const { outcome } = backendVerdict(sections);
  return {
    backend: context.backend,
    outcome,
    gradientsNotCompared: sections.gradientsNotCompared,
    ...(sections.training ? { training: sections.training } : {}),
    ...(sections.afterTraining ? { afterTraining: sections.afterTraining } : {}),
    firstDivergingLayer: sections.firstDivergingLayer,
    firstDivergingLayerBackward: sections.firstDivergingLayerBackward,
    isolated: sections.isolated,
    seconds,
    tensors: sections.tensors,
    ...(sections.modes ? { modes: sections.modes } : {}),
  };
}
