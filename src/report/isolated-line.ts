import type { BackendParity } from '../parity/parity-result.js';

/** The terminal report's line on layer-isolated outputs (each layer run alone) for one model on one backend. */
export function isolatedLine(model: string, b: BackendParity, paint: (text: string, code: number) => string): string {
  const { tensors, failingLayers, skipped } = b.isolated;
  const notRun = skipped.length > 0 ? `; not run alone: ${skipped.map((s) => `${s.layer} (${s.reason})`).join(', ')}` : '';
  return failingLayers.length === 0
    ? `${model} on ${b.backend}, layer-isolated mode: ${tensors.length} layer outputs compared, all pass${notRun}`
    : paint(`${model} on ${b.backend}, layer-isolated mode: out of tolerance when run alone on Keras's inputs: ${failingLayers.join(', ')}${notRun}`, 31);
}
