import { formatJUnit } from '../junit-report.js';
import { registerReportFormat } from './format-registry.js';

registerReportFormat({
  flag: 'junit',
  description: 'JUnit XML: a test case per model × backend × tensor group, for CI systems',
  render: formatJUnit,
});
