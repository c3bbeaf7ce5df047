import type { BenchResults } from './bench-results.js';
import type { Timing } from './timing.js';

/**
 * The products of each model's forward pass against the machine: their multiply-adds
 * (product-macs.ts), the rate Keras's tf.function and wasm ran them at (multiply-adds over the
 * whole pass's time: a lower bound on each one's product speed), and the time the products alone
 * would take at wasm's register-bound peak (wasm-fma-peak.ts), as a ratio to Keras's whole pass.
 * Where that ratio nears a target, no wasm kernel can meet it on this machine.
 */
export const CEILING_HEADER = ['model', 'batch', 'products (multiply-adds)', 'keras tf.function G MAC/s', 'wasm G MAC/s', 'at wasm peak ms', 'ratio to keras'];

const ms = (t: Timing | undefined): number | null => (t && 'medianMs' in t ? t.medianMs : null);
const rate = (macs: number, timeMs: number | null): string => (timeMs ? (macs / timeMs / 1e6).toFixed(1) : '-');

/** A count with its SI prefix and three significant digits: "131 G", "1.41 K". */
export function siCount(n: number): string {
  const [scale, prefix] = n >= 1e9 ? [1e9, ' G'] : n >= 1e6 ? [1e6, ' M'] : n >= 1e3 ? [1e3, ' K'] : [1, ''];
  return `${Number((n / scale).toPrecision(3))}${prefix}`;
}

/** The rows, for models whose products were counted; none without a measured peak. */
export function ceilingRows(run: BenchResults): string[][] {
  const peak = run.machine.wasmFmaPeak?.totalGmacs;
  if (!peak) return [];
  return run.models.flatMap((model) =>
    Object.entries(model.forwardProductMacs ?? {}).flatMap(([batch, macs]) => {
      if (macs <= 0) return [];
      const keras = ms(model.keras[batch]?.function_forward);
      const wasmCell = model.backends['wasm'];
      const wasm = wasmCell && !('skipped' in wasmCell) ? ms(wasmCell.batches[batch]?.forward) : null;
      const atPeakMs = macs / peak / 1e6;
      return [[model.name, batch, siCount(macs), rate(macs, keras), rate(macs, wasm), atPeakMs >= 1 ? atPeakMs.toFixed(1) : String(Number(atPeakMs.toPrecision(2))), keras ? `${(atPeakMs / keras).toFixed(2)}x` : '-']];
    }),
  );
}

/** What the table's figures mean, with the measured peak. */
export function ceilingSummary(run: BenchResults): string | undefined {
  const peak = run.machine.wasmFmaPeak;
  if (!peak) return undefined;
  const each = peak.perThreadGmacs.map((g) => g.toFixed(1)).join(' + ');
  return (
    `wasm's 128-bit SIMD peak: ${peak.totalGmacs.toFixed(1)} billion multiply-adds a second on ${peak.threads} thread${peak.threads === 1 ? '' : 's'} (${each}; ${peak.multiplyAdd === 'fused' ? 'relaxed_madd' : 'a multiply and an add'} on registers alone, src/bench/wasm-fma-peak.ts). ` +
    "Products: the forward pass's convolutions and matrix products, counted as the direct algorithm multiplies (Winograd's 3x3 convolutions multiply fewer times); " +
    "G MAC/s: those multiply-adds over the whole pass's median time; at wasm peak: the products alone at that peak, and that time over Keras's whole pass"
  );
}
