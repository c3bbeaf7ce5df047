import type { ConversionReport, FieldNote, LayerConversion } from '../convert/conversion-report.js';
import { describeSubclass, type SubclassedModel } from '../keras/subclassed-model.js';

/** Each layer, how it was mapped, and every field dropped or changed, with why. */
export function formatConversionReport(report: ConversionReport): string {
  const lines = [`${report.model} (${kerasClassText(report.kerasClass, report.subclassedModel)}) from ${report.source}`];
  for (const layer of report.layers) lines.push(...describeLayer(layer, '  '));
  for (const note of report.modelNotes) lines.push(`  (model) ${describeNote(note)}`);
  const w = report.weights;
  lines.push(`  weights: ${w.count} tensors, ${w.bytes} bytes, ${w.shards} shard${w.shards === 1 ? '' : 's'}`);
  for (const warning of report.constraintWarnings) lines.push(`  warning: ${warning.message}`);
  return lines.join('\n');
}

const MAPPINGS: Record<LayerConversion['mapping'], string> = {
  tfjs: 'tfjs',
  custom: 'registered TypeScript layer',
  operation: 'keras-bridge',
  model: 'nested tfjs',
};

function describeLayer(layer: LayerConversion, indent: string): string[] {
  const lines = [`${indent}${layer.name}: ${kerasClassText(layer.kerasClass, layer.subclassedModel)} → ${MAPPINGS[layer.mapping]} ${layer.tfjsClass}`];
  for (const note of layer.notes) lines.push(`${indent}    ${describeNote(note)}`);
  for (const inner of layer.layers ?? []) lines.push(...describeLayer(inner, `${indent}  `));
  return lines;
}

/** The Keras class, or for a recorded subclassed model what it was and how it converted. */
export function kerasClassText(kerasClass: string, subclassed: SubclassedModel | undefined): string {
  return subclassed ? `subclassed functional model ${describeSubclass(subclassed)}, converted through its recorded graph` : kerasClass;
}

export function describeNote(note: FieldNote): string {
  if (note.action === 'changed') {
    return `${note.field}: ${JSON.stringify(note.from)} → ${JSON.stringify(note.to)} (${note.reason})`;
  }
  if (note.action === 'added') return `${note.field} = ${JSON.stringify(note.to)}: added (${note.reason})`;
  const value = note.from === undefined ? '' : ` = ${JSON.stringify(note.from)}`;
  return `${note.field}${value}: dropped (${note.reason})`;
}
