import type { ClassSource } from '../keras/bundle-manifest.js';
import type { InspectedCustomClass, InspectedLayer, InspectReport, LayerStatus } from '../inspect/inspect-report.js';
import { describeNote, kerasClassText } from './conversion-table.js';

const STATUS_TEXT: Record<LayerStatus, string> = {
  tfjs: 'tfjs-layers',
  'keras-bridge': 'keras-bridge',
  operation: 'keras-bridge op',
  registered: 'registered custom',
  model: 'nested model',
  dropped: 'dropped',
  missing: 'MISSING',
};

/** The human form of `inspect`: one row per layer, then what conversion drops, then Python-only code. */
export function formatInspectReport(report: InspectReport): string {
  const rows = report.layers.map((layer) => [
    `${'  '.repeat(layer.path.length)}${layer.name}`,
    layer.subclassedModel ? `${layer.kerasClass} (subclassed ${layer.subclassedModel.className})` : layer.kerasClass,
    STATUS_TEXT[layer.status],
    layer.status === 'missing' ? `${layer.missing!.kind}: ${withoutSource(layer.missing!.reason, report.source)}` : (layer.tfjsClass ?? ''),
  ]);
  const header = ['layer', 'Keras class', 'converts to', 'tfjs class / why missing'];
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd();
  const counts = Object.entries(report.counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${STATUS_TEXT[status as LayerStatus]}`)
    .join(', ');
  const title = `${report.model} (${kerasClassText(report.kerasClass, report.subclassedModel)}) from ${report.source}`;
  const lines = [`${title}: ${report.layers.length} layers (${counts || 'none'})`, '', line(header), ...rows.map(line)];
  lines.push('', ...conversionLines(report));
  const python = report.customClasses.flatMap(customClassLines);
  if (python.length > 0) lines.push('', 'Custom classes (source recorded at export; Python-only constructs in call()):', ...python);
  return lines.join('\n');
}

function conversionLines(report: InspectReport): string[] {
  const { conversion } = report;
  if (!conversion.converts) return [`convert fails: ${withoutSource(conversion.error, report.source)}`];
  const notes = [
    ...report.layers.flatMap((layer: InspectedLayer) => layer.notes.map((note) => `  ${[...layer.path, layer.name].join('/')}: ${describeNote(note)}`)),
    ...conversion.modelNotes.map((note) => `  (model) ${describeNote(note)}`),
  ];
  const w = conversion.weights;
  return [
    `convert succeeds: ${w.count} weight tensors, ${w.bytes} bytes. What it drops or changes:`,
    ...(notes.length > 0 ? notes : ['  nothing']),
    ...conversion.constraintWarnings.map((warning) => `  warning: ${warning.message}`),
  ];
}

function customClassLines(custom: InspectedCustomClass): string[] {
  const lines = [`  ${custom.className} (${custom.module ?? 'unknown module'}; layers ${custom.layers.join(', ')}): ${where(custom.source)}`];
  for (const base of custom.baseSources) lines.push(`    base class ${base.qualname}: ${where(base)}`);
  const python = custom.pythonOnly;
  if (!python) lines.push('    call() not analyzed: the bundle records no analysis (exported before keras-bridge recorded it)');
  else if (python.unanalyzed) lines.push(`    call() not analyzed: ${python.unanalyzed}`);
  else if (python.findings.length === 0) lines.push(`    no Python-only constructs in ${python.analyzed.join(', ')}`);
  for (const finding of python?.findings ?? []) {
    lines.push(`    ${finding.file}:${finding.line}: ${finding.construct} in ${finding.function}: ${finding.code}`);
  }
  return lines;
}

function where(source: ClassSource | null): string {
  if (!source) return 'no source recorded';
  if (source.unavailable) return `source unavailable (${source.unavailable})`;
  return `${source.file}:${source.line}`;
}

/** The converter's messages start with the model file; the table's title already says it. */
function withoutSource(message: string, source: string): string {
  const firstLine = message.split('\n')[0]!;
  const text = firstLine.startsWith(`${source}: `) ? firstLine.slice(source.length + 2) : firstLine;
  return text.endsWith(':') ? `${text.slice(0, -1)} (the MISSING rows above)` : text;
}
