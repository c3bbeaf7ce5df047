import type { ReportFormat } from './report-format.js';

const formats: ReportFormat[] = [];

/** Registers a report format; returns a function that unregisters it (for tests that add one for a while). */
export function registerReportFormat(format: ReportFormat): () => void {
  // Two files claiming one flag is a programming error (exit 70), not a user's.
  if (formats.some((f) => f.flag === format.flag)) throw new Error(`report format '--${format.flag}' is registered twice`);
  formats.push(format);
  return () => void formats.splice(formats.indexOf(format), 1);
}

/** The registered formats, in registration order (the order files are written in). */
export function reportFormats(): readonly ReportFormat[] {
  return formats;
}

/** A registered format by flag. */
export function reportFormat(flag: string): ReportFormat {
  const format = formats.find((f) => f.flag === flag);
  if (!format) throw new Error(`no report format '--${flag}' is registered (registered: ${formats.map((f) => f.flag).join(', ')})`);
  return format;
}
