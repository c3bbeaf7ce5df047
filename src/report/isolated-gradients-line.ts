import type { BackendParity } from '../parity/parity-result.js';

/** Skip reasons shown in full; the rest are counted (a residual network has one per fan-out). */
const SHOWN_SKIPS = 5;

/** The terminal report's line on layer-isolated gradients for one model on one backend. */
export function isolatedGradientsLine(model: string, b: BackendParity, paint: (text: string, code: number) => string): string {
  const { tensors, failingLayers, skipped, unavailable } = b.isolated.gradients;
  const head = `${model} on ${b.backend}, layer-isolated gradients:`;
  if (unavailable !== null) return `${head} not checked: ${unavailable}`;
  const shown = skipped.slice(0, SHOWN_SKIPS).map((s) => `${s.layer} (${s.reason})`);
  if (skipped.length > SHOWN_SKIPS) shown.push(`${skipped.length - SHOWN_SKIPS} more`);
  const notChecked = shown.length > 0 ? `; not checked alone: ${shown.join(', ')}` : '';
  return failingLayers.length === 0
    ? `${head} ${tensors.length} tensors compared, all pass${notChecked}`
    : paint(`${head} backward pass out of tolerance when run alone on Keras's inputs and output gradients: ${failingLayers.join(', ')}${notChecked}`, 31);
}
