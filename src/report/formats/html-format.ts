import { formatHtmlReport } from '../html-report.js';
import { registerReportFormat } from './format-registry.js';

registerReportFormat({
  flag: 'html',
  description:
    'a self-contained HTML report: error by layer in every mode (end to end and layer alone, outputs and gradients, training), the tolerance line, the forward and backward first divergence, error histograms',
  render: formatHtmlReport,
});
