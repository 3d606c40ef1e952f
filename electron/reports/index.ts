/** Batch reports: what other folders (the CLI, the station, the UI's host) may import. See README.md. */
export {
  loadBatchReportData,
  readBatchReportData,
  type BatchReportData,
  type ReportBatch,
  type ReportUnit,
  type ReportAttempt,
  type ReportStep,
  type ReportSignature,
  type ReportCorrection,
  type ReportNote,
  type ChainStatus,
  type UnitStateName,
  type ReportDetail,
} from './data';
export {
  batchStats,
  percentile,
  type BatchStats,
  type BatchStatsOptions,
  type Distribution,
  type FailureCause,
  type ShiftStats,
  type StepStats,
  type UnitCounts,
} from './stats';
export { DEFAULT_SHIFT_STARTS, parseShiftStarts, shiftAt, type ShiftWindow } from './shifts';
export { renderBatchReportHtml, pdfPageTemplates, type ReportHtmlExtras } from './html';
export { CSV_COLUMNS, csvRow, neutraliseCell, renderCsv, type CsvRow } from './csv';
export { openHtfRecord, renderUnitsJson, UNITS_JSON_FORMAT, type OpenHtfRecord } from './openhtf';
export { CFX_MESSAGE_NAME, CFX_VERSION, cfxTestedUnit, renderCfx } from './cfx';
export {
  chromiumPdfPrinter,
  startChromium,
  type ChromiumSession,
  type PdfPrinter,
  type PdfPrintOptions,
} from './pdf';
export {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  verifyReportDir,
  type ManifestFile,
  type ReportManifest,
  type ReportProblem,
  type ReportVerifyOptions,
  type ReportVerifyResult,
} from './manifest';
export {
  parseFormats,
  REPORT_FILES,
  REPORT_FORMATS,
  writeBatchReport,
  writeBatchReportDetailed,
  type ReportFormat,
  type ReportPhase,
  type WriteBatchReportOptions,
  type WriteBatchReportResult,
} from './write-report';
export { signatureValidity, type SignatureValidity, type SignatureEventRow } from './signatures';
export { ReportError, type ReportErrorCode } from './errors';
