import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { benchRows, formatRatio, formatTiming, RATIO_TEXT, notTimed, conversionCells, warmupText, runsText, conversionRunsText, type BenchRow } from './bench-table.js';
import type { BenchResults } from './bench-results.js';
import { SCALING_HEADER, scalingRows, scalingSummary } from './conversion-scaling.js';
import { CEILING_HEADER, ceilingRows, ceilingSummary } from './product-ceiling.js';

const START = '<!-- bench:start (written by npm run bench -- --docs) -->';
const END = '<!-- bench:end -->';

/** The markdown of the latest run: the ratio table, conversion and parity figures, and the chart. */
export function performanceMarkdown(run: BenchResults): string {
  const m = run.machine;
  const rows = run.models.flatMap(benchRows);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    `Latest run: ${run.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores; Keras ${m.keras} on TensorFlow ${m.tensorflow}, tfjs ${m.tfjs}, Node ${m.node}${m.tensorflowBinding ? `; tensorflow binding: ${m.tensorflowBinding}` : ''}${m.wasmProducts ? `; wasm products: ${m.wasmProducts}` : ''}.`,
    `Milliseconds: median (10th–90th percentile) of ${runsText(run)}, after ${warmupText(run)}, at most ${run.settings.budgetS} s per timing; ${RATIO_TEXT} (below 1: faster).`,
    '',
    '![ratio to Keras tf.function per model, batch size and runtime](performance.svg)',
    '',
    line(['model', 'batch', 'runtime', 'forward ms', 'ratio', 'forward+backward ms', 'ratio']),
    line(['---', '---', '---', '---', '---', '---', '---']),
    ...rows.map((r) => line([r.model, r.batch, r.runtime, formatTiming(r.forward), formatRatio(r.forwardRatio, r.forwardAgainstMs), formatTiming(r.backward), formatRatio(r.backwardRatio, r.backwardAgainstMs)])),
    '',
    `Conversion (\`keras-bridge convert\`, one process${conversionRunsText(run)}; time and peak RSS over a process that converts nothing (\`keras-bridge convert --help\`), \`-\` where within its own spread: under 50 ms of work, or less memory):`,
    '',
    line(['model', 'from', 'weights MB', 'wall s', 'weights MB/s', 'peak RSS +MB', 'RSS / weights']),
    line(['---', '---', '---', '---', '---', '---', '---']),
    ...run.models.flatMap((model) =>
      model.conversion.map((c) => {
        const mb = model.weightBytes / 2 ** 20;
        return line([model.name, c.from, mb.toFixed(1), c.wallS.toFixed(2), ...conversionCells(c, model.weightBytes)]);
      }),
    ),
    ...(run.conversionScaling && run.conversionScaling.length > 0
      ? [
          '',
          'Conversion scaling (`keras-bridge convert` of synthetic `.keras` files, fixtures/models/synthetic_models.py, next to `cp` of the same file on the same disk; whole-process peak RSS):',
          '',
          line(SCALING_HEADER),
          line(SCALING_HEADER.map(() => '---')),
          ...scalingRows(run.conversionScaling).map(line),
          ...[scalingSummary(run.conversionScaling)].filter((l): l is string => l !== undefined).map((l) => `\n${l[0]!.toUpperCase()}${l.slice(1)}.`),
        ]
      : []),
    ...(ceilingRows(run).length > 0
      ? ['', `Products against the machine: ${ceilingSummary(run)}.`, '', line(CEILING_HEADER), line(CEILING_HEADER.map(() => '---')), ...ceilingRows(run).map(line)]
      : []),
    '',
    'Full parity run (`keras-bridge parity BUNDLE`: conversion, every tensor, every mode):',
    '',
    line(['model', 'backend', 'wall s', 'tensors', 'outcome']),
    line(['---', '---', '---', '---', '---']),
    ...run.models.flatMap((model) => model.parity.map((p) => line([model.name, p.backend, p.wallS !== null ? p.wallS.toFixed(1) : '-', p.tensors !== null ? String(p.tensors) : '-', p.note ?? 'pass']))),
    ...(notTimed(run).length > 0 ? ['', 'Not timed, and why:', '', ...notTimed(run).map((l) => `- ${l}`)] : []),
  ].join('\n');
}

const escape = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);

/**
 * A horizontal bar chart of each tfjs backend's ratio to Keras's tf.function (forward and
 * forward + backward), on a log scale with the 1x line marked: self-contained SVG, no script.
 */
export function performanceChart(run: BenchResults): string {
  const rows = run.models.flatMap(benchRows).filter((r) => !r.runtime.startsWith('keras tf.function') && (r.forwardRatio !== null || r.backwardRatio !== null));
  const label = (r: BenchRow) => `${r.model} b${r.batch} ${r.runtime}`;
  const ratios = rows.flatMap((r) => [r.forwardRatio, r.backwardRatio]).filter((x): x is number => x !== null);
  const lo = Math.min(0.5, ...ratios);
  const hi = Math.max(2, ...ratios);
  const [left, width, barH, gap, top] = [230, 520, 7, 6, 40];
  const x = (ratio: number) => left + ((Math.log(ratio) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * width;
  const height = top + rows.length * (2 * barH + gap) + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 70}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<text x="4" y="14" font-size="12">time / Keras tf.function (log scale): forward (blue), forward+backward (orange); ${escape(run.date.slice(0, 10))}, ${escape(run.machine.cpu)}</text>`,
  ];
  for (const tick of [0.1, 0.25, 0.5, 1, 2, 4, 10, 25, 100, 250, 1000].filter((t) => t >= lo && t <= hi)) {
    parts.push(`<line x1="${x(tick).toFixed(1)}" y1="${top - 8}" x2="${x(tick).toFixed(1)}" y2="${height - 24}" stroke="${tick === 1 ? '#000' : '#ddd'}"/>`);
    parts.push(`<text x="${x(tick).toFixed(1)}" y="${height - 10}" text-anchor="middle">${tick}x</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * (2 * barH + gap);
    parts.push(`<text x="${left - 6}" y="${y + barH + 3}" text-anchor="end">${escape(label(r))}</text>`);
    for (const [k, ratio, color] of [[0, r.forwardRatio, '#4a7bd0'], [1, r.backwardRatio, '#e08a2c']] as const) {
      if (ratio === null) continue;
      const x0 = x(Math.min(1, ratio));
      const x1 = x(Math.max(1, ratio));
      parts.push(`<rect x="${x0.toFixed(1)}" y="${y + k * barH}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${barH - 1}" fill="${color}"><title>${escape(`${label(r)} ${k === 0 ? 'forward' : 'forward+backward'}: ${ratio.toFixed(2)}x`)}</title></rect>`);
      parts.push(`<text x="${(x1 + 3).toFixed(1)}" y="${y + k * barH + barH - 1}" font-size="8">${ratio.toFixed(2)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Rewrites the generated section of docs/performance.md (between its markers) and docs/performance.svg. */
export async function writePerformanceDocs(run: BenchResults, docsDir: string): Promise<void> {
  const file = path.join(docsDir, 'performance.md');
  const text = await readFile(file, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file}: no '${START}' … '${END}' section to rewrite`);
  await writeFile(file, text.slice(0, start + START.length) + '\n' + performanceMarkdown(run) + '\n' + text.slice(end));
  await writeFile(path.join(docsDir, 'performance.svg'), performanceChart(run));
}
