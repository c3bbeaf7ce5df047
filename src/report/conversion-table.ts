import type { ConversionReport, FieldNote } from '../convert/conversion-report.js';

/** Each layer, how it was mapped, and every field dropped or changed, with why. */
export function formatConversionReport(report: ConversionReport): string {
  const lines = [`${report.model} (${report.kerasClass}) from ${report.source}`];
  for (const layer of report.layers) {
    const how = layer.mapping === 'custom' ? `registered TypeScript layer ${layer.tfjsClass}` : `tfjs ${layer.tfjsClass}`;
    lines.push(`  ${layer.name}: ${layer.kerasClass} → ${how}`);
    for (const note of layer.notes) lines.push(`      ${describeNote(note)}`);
  }
  for (const note of report.modelNotes) lines.push(`  (model) ${describeNote(note)}`);
  const w = report.weights;
  lines.push(`  weights: ${w.count} tensors, ${w.bytes} bytes, ${w.shards} shard${w.shards === 1 ? '' : 's'}`);
  return lines.join('\n');
}

function describeNote(note: FieldNote): string {
  if (note.action === 'changed') {
    return `${note.field}: ${JSON.stringify(note.from)} → ${JSON.stringify(note.to)} (${note.reason})`;
  }
  const value = note.from === undefined ? '' : ` = ${JSON.stringify(note.from)}`;
  return `${note.field}${value}: dropped (${note.reason})`;
}
