import { ERROR_HISTOGRAM_DECADES } from '../parity/compare-tensors.js';
import type { BackendParity, ModelParity, ParityOutcome, ParityRun, TensorParity } from '../parity/parity-result.js';
import { parityModes, type ChartSeries } from '../parity/modes/index.js';
import { backendVerdict } from '../parity/parity-verdict.js';
import { divergenceLines } from './divergence-lines.js';
import { describeFailure } from './failure-line.js';
import { formatError } from './format-number.js';
import { modeLines, runErrorLine } from './parity-table.js';

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

const CHART = { width: 860, height: 260, left: 56, right: 16, top: 20, bottom: 90 };
const RATIO_RANGE = { min: -6, max: 3 };

/** y position of log10(error / allowed), clipped to the chart's range. */
function ratioY(ratio: number): number {
  const log = ratio <= 0 ? RATIO_RANGE.min : Math.min(Math.max(Math.log10(ratio), RATIO_RANGE.min), RATIO_RANGE.max);
  const plot = CHART.height - CHART.top - CHART.bottom;
  return CHART.top + ((RATIO_RANGE.max - log) / (RATIO_RANGE.max - RATIO_RANGE.min)) * plot;
}

type Marker = ChartSeries['marker'];

/** Every registered mode's chart series: forward, then backward; end to end filled, layer alone hollow; training mode last (each series' rank). */
function chartSeries(): ChartSeries[] {
  return parityModes()
    .flatMap((mode) => mode.chartSeries)
    .sort((x, y) => x.rank - y.rank);
}

function markerSvg(marker: Marker, cx: number, cy: number, attributes: string, title: string): string {
  switch (marker) {
    case 'circle':
      return `<circle cx="${cx}" cy="${cy}" r="4" ${attributes}>${title}</circle>`;
    case 'square':
      return `<rect x="${cx - 3.5}" y="${cy - 3.5}" width="7" height="7" ${attributes}>${title}</rect>`;
    case 'triangle':
      return `<polygon points="${cx},${cy - 5} ${cx + 4.5},${cy + 3.5} ${cx - 4.5},${cy + 3.5}" ${attributes}>${title}</polygon>`;
    case 'diamond':
      return `<polygon points="${cx},${cy - 5} ${cx + 5},${cy} ${cx},${cy + 5} ${cx - 5},${cy}" ${attributes}>${title}</polygon>`;
  }
}

/** The worst error / allowed per layer of a series' tensors. */
function worstByLayer(tensors: readonly TensorParity[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const t of tensors) {
    if (t.layer) map.set(t.layer, Math.max(map.get(t.layer) ?? 0, t.comparison.maxToleranceRatio));
  }
  return map;
}

/** A dashed vertical line at a layer, labelled, for a divergence. */
function divergenceMarker(x: number, row: number, id: string, text: string, cls: string): string {
  return (
    `<line x1="${x}" x2="${x}" y1="${CHART.top}" y2="${CHART.height - CHART.bottom}" class="divergence ${cls}"/>` +
    `<text x="${x + 4}" y="${CHART.top + 12 + 14 * row}" class="divergence-label ${cls}" id="${id}">${escapeHtml(text)}</text>`
  );
}

/**
 * Error by layer in graph order, one series per comparison mode (chartSeries), as log10 of the worst
 * element's error over its allowed error, so the tolerance is the line at 0; the first divergence
 * of the forward and of the backward pass are marked.
 */
function layerChart(backend: BackendParity, layerOrder: string[]): { svg: string; legend: string } {
  const series = chartSeries().map((s) => ({ ...s, byLayer: worstByLayer(s.tensors(backend)) })).filter((s) => s.byLayer.size > 0);
  const layers = layerOrder.filter((l) => series.some((s) => s.byLayer.has(l)));
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const x = (i: number) => CHART.left + (layers.length <= 1 ? plotWidth / 2 : (i * plotWidth) / (layers.length - 1));
  const labelEvery = Math.max(1, Math.ceil(layers.length / 40));
  const parts: string[] = [];
  for (let tick = RATIO_RANGE.min; tick <= RATIO_RANGE.max; tick++) {
    const y = ratioY(10 ** tick);
    parts.push(`<line x1="${CHART.left}" x2="${CHART.width - CHART.right}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${CHART.left - 6}" y="${y + 4}" class="axis" text-anchor="end">1e${tick}</text>`);
  }
  const tolY = ratioY(1);
  parts.push(`<line x1="${CHART.left}" x2="${CHART.width - CHART.right}" y1="${tolY}" y2="${tolY}" class="tolerance"/>`);
  parts.push(`<text x="${CHART.width - CHART.right}" y="${tolY - 5}" class="tolerance-label" text-anchor="end">tolerance</text>`);
  for (const s of series) {
    const points = layers.map((l, i) => (s.byLayer.has(l) ? `${x(i)},${ratioY(s.byLayer.get(l)!)}` : null)).filter(Boolean);
    if (points.length > 1) parts.push(`<polyline points="${points.join(' ')}" class="${s.cls}-line"/>`);
    layers.forEach((l, i) => {
      const ratio = s.byLayer.get(l);
      if (ratio === undefined) return;
      const attributes = `class="point ${s.cls}${s.hollow ? ' hollow' : ''}${ratio > 1 ? ' fail' : ''}" data-layer="${escapeHtml(l)}"`;
      const title = `<title>${escapeHtml(l)}: ${s.legend}: error / allowed = ${formatError(ratio)}</title>`;
      parts.push(markerSvg(s.marker, x(i), ratioY(ratio), attributes, title));
    });
  }
  const marked = [backend.firstDivergingLayer, backend.firstDivergingLayerBackward, backend.training?.firstDivergingLayer];
  layers.forEach((l, i) => {
    if (i % labelEvery !== 0 && !marked.includes(l)) return;
    const y = CHART.height - CHART.bottom + 12;
    parts.push(`<text x="${x(i)}" y="${y}" class="axis layer-name" transform="rotate(45 ${x(i)} ${y})">${escapeHtml(l)}</text>`);
  });
  const first = backend.firstDivergingLayer ? layers.indexOf(backend.firstDivergingLayer) : -1;
  if (first >= 0) parts.push(divergenceMarker(x(first), 0, 'first-divergence', `first divergence: ${backend.firstDivergingLayer}`, 'forward'));
  const backward = backend.firstDivergingLayerBackward ? layers.indexOf(backend.firstDivergingLayerBackward) : -1;
  if (backward >= 0) {
    parts.push(divergenceMarker(x(backward), 1, 'first-divergence-backward', `backward pass diverges: ${backend.firstDivergingLayerBackward}`, 'backward'));
  }
  const inTraining = backend.training?.firstDivergingLayer ? layers.indexOf(backend.training.firstDivergingLayer) : -1;
  if (inTraining >= 0) {
    parts.push(divergenceMarker(x(inTraining), 2, 'first-divergence-training', `training mode diverges: ${backend.training!.firstDivergingLayer}`, 'training'));
  }
  const legend = series
    .map((s) => `<svg width="12" height="12" viewBox="${-6} ${-6} 12 12">${markerSvg(s.marker, 0, 0, `class="point ${s.cls}${s.hollow ? ' hollow' : ''}"`, '')}</svg> ${escapeHtml(s.legend)}`)
    .join(' &nbsp; ');
  const svg = `<svg class="chart" viewBox="0 0 ${CHART.width} ${CHART.height}" width="${CHART.width}" height="${CHART.height}" role="img" aria-label="error by layer">${parts.join('')}</svg>`;
  return { svg, legend };
}

/** Absolute errors of every element of every tensor, per decade. */
function histogram(backend: BackendParity): string {
  const counts = backend.tensors.reduce(
    (sum, t) => sum.map((v, i) => v + (t.comparison.errorHistogram[i] ?? 0)),
    new Array<number>(backend.tensors[0]?.comparison.errorHistogram.length ?? 0).fill(0),
  );
  const labels = ['0', ...Array.from({ length: ERROR_HISTOGRAM_DECADES.last - ERROR_HISTOGRAM_DECADES.first + 1 }, (_, i) => `1e${ERROR_HISTOGRAM_DECADES.first + i}`), '≥1'];
  const width = 860;
  const height = 160;
  const barWidth = (width - 60) / Math.max(1, counts.length);
  const max = Math.max(1, ...counts);
  const bars = counts.map((c, i) => {
    const h = c === 0 ? 0 : Math.max(2, (Math.log10(c + 1) / Math.log10(max + 1)) * (height - 50));
    const bx = 40 + i * barWidth;
    return `<rect x="${bx + 2}" y="${height - 30 - h}" width="${barWidth - 4}" height="${h}" class="bar"><title>${labels[i]}: ${c} elements</title></rect>` +
      `<text x="${bx + barWidth / 2}" y="${height - 14}" class="axis" text-anchor="middle">${labels[i]}</text>` +
      (c > 0 ? `<text x="${bx + barWidth / 2}" y="${height - 34 - h}" class="axis" text-anchor="middle">${c}</text>` : '');
  });
  return `<svg class="histogram" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="error histogram">${bars.join('')}</svg>`;
}

function backendSection(model: ModelParity, backend: BackendParity, layerOrder: string[]): string {
  if (backend.runError !== undefined) {
    return `<section class="backend"><h3>${escapeHtml(backend.backend)}: <span class="fail">FAIL: could not run</span> <small>${backend.seconds.toFixed(2)} s</small></h3>
<pre class="failures">${escapeHtml(runErrorLine(model.model, backend))}</pre></section>`;
  }
  const failed = backendVerdict(backend).failures;
  const status = outcomeBadge(backend.outcome, `FAIL: ${failed.length} tensors out of tolerance`);
  const failures = failed.length === 0 ? '' : `<pre class="failures">${escapeHtml(failed.map((f) => describeFailure(model.model, backend.backend, f)).join('\n'))}</pre>`;
  const divergences = divergenceLines(model.model, backend).map((line) => `<li>${escapeHtml(line)}</li>`);
  const modes = modeLines(model.model, backend, (text) => text).map((line) => `<li>${escapeHtml(line)}</li>`);
  const chart = layerChart(backend, layerOrder);
  return `<section class="backend"><h3>${escapeHtml(backend.backend)}: ${status} <small>${backend.seconds.toFixed(2)} s</small></h3>
<p class="legend">Error by layer, in graph order: log<sub>10</sub>(worst |tfjs − keras| / allowed); filled: end to end through the whole model, hollow: the layer run alone on Keras's inputs; red: out of tolerance.</p>
<p class="legend series-legend">${chart.legend}</p>
${chart.svg}
<p class="legend">Absolute error of every compared element, per decade.</p>
${histogram(backend)}
${divergences.length > 0 ? `<ul class="divergences">${divergences.join('')}</ul>` : ''}
<ul class="modes">${modes.join('')}</ul>
${failures}</section>`;
}

/** pass, FAIL (with `failText`), or INCOMPLETE: every compared tensor passes but gradients were not compared. */
function outcomeBadge(outcome: ParityOutcome, failText = 'FAIL'): string {
  if (outcome === 'pass') return '<span class="pass">pass</span>';
  if (outcome === 'incomplete') return '<span class="incomplete">INCOMPLETE: gradients not compared</span>';
  return `<span class="fail">${escapeHtml(failText)}</span>`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:920px}
h1{font-size:20px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.incomplete{color:#9a6700;font-weight:600}small{color:#666;font-weight:400}
.grid{stroke:#eee}.axis{font-size:10px;fill:#555}.tolerance{stroke:#cf222e;stroke-dasharray:6 3}
.tolerance-label{font-size:11px;fill:#cf222e}.out-line{fill:none;stroke:#0969da;stroke-width:1.5}
.grad-line{fill:none;stroke:#8250df;stroke-width:1;stroke-dasharray:3 2}.dy-line{fill:none;stroke:#bf8700;stroke-width:1;stroke-dasharray:4 2}
.train-line{fill:none;stroke:#1a7f37;stroke-width:1;stroke-dasharray:1 2}.alone-line,.back-alone-line{display:none}
.point.out,.point.alone{fill:#0969da;stroke:#0969da}.point.grad,.point.back-alone{fill:#8250df;stroke:#8250df}
.point.dy{fill:#bf8700;stroke:#bf8700}.point.train{fill:#1a7f37;stroke:#1a7f37}.point.hollow{fill:#fff;stroke-width:1.5}
.point.fail{fill:#cf222e;stroke:#cf222e}.point.hollow.fail{fill:#fff}.divergence{stroke:#cf222e;stroke-width:2;stroke-dasharray:2 2}
.divergence.backward{stroke:#bf3989}.divergence.training{stroke:#1a7f37}.divergence-label{font-size:12px;fill:#cf222e;font-weight:600}
.divergence-label.backward{fill:#bf3989}.divergence-label.training{fill:#1a7f37}.divergences{font-size:13px;color:#cf222e;padding-left:18px}
.conversion-warning{color:#9a6700;font-size:13px}.modes{font-size:12px;color:#444;padding-left:18px}.bar{fill:#0969da}.legend{color:#555;font-size:12px;margin:4px 0}pre.failures{background:#fff5f5;border:1px solid #f5c2c7;padding:8px;white-space:pre-wrap;font-size:12px}`;

/** One self-contained HTML page (inline CSS and SVG, no scripts) for a parity run. */
export function formatHtmlReport(run: ParityRun): string {
  const models = run.models.map((m) =>
    `<h2>${escapeHtml(m.model)} <small>(${escapeHtml(m.kerasModelName)})</small>: ${outcomeBadge(m.outcome)}</h2>` +
    m.conversionWarnings.map((w) => `<p class="conversion-warning">conversion warning: ${escapeHtml(w)}</p>`).join('') +
    m.backends.map((b) => backendSection(m, b, m.layerOrder)).join('\n'),
  );
  const unavailable = [
    ...run.unavailableBackends.map((u) => `<p class="legend">backend ${escapeHtml(u.backend)} not run: ${escapeHtml(u.reason)}</p>`),
    ...(run.backendDetails ?? []).map((d) => `<p class="legend">backend ${escapeHtml(d.backend)}: ${escapeHtml(d.details)}</p>`),
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>keras-bridge parity</title><style>${STYLE}</style></head>
<body><h1>keras-bridge parity: ${run.outcome === 'pass' ? '<span class="pass">all pass</span>' : outcomeBadge(run.outcome)}</h1>
${unavailable.join('\n')}
${models.join('\n')}
</body></html>
`;
}
