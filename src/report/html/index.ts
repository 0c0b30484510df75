/** The HTML report every build writes beside its record: out/report.html. docs/report.md. */
export { reportHtml } from './report.js';
export { REPORT_FILE, type Exposure, type ReportInputs, type ReportLockedPackage } from './types.js';
export { sbomSummary, type SbomSummary, type SbomPackageSummary } from './sbom-summary.js';
