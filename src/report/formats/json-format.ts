import { formatParityResults } from '../../parity/results-schema.js';
import { registerReportFormat } from './format-registry.js';

registerReportFormat({
  flag: 'json',
  description:
    "the results as JSON (schema keras-bridge-parity v2, docs/results-format.md), which 'keras-bridge report' renders again; from 'report', the same bytes, or a v1 file upgraded to v2",
  render: formatParityResults,
});
