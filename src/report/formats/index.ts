// The built-in report formats, registered in the order files are written: the JSON first (the
// record every other format can be rendered again from), then JUnit and HTML. A new format is one
// file here and one import below.
import './json-format.js';
import './junit-format.js';
import './html-format.js';

export { registerReportFormat, reportFormat, reportFormats } from './format-registry.js';
export type { ReportFormat } from './report-format.js';
