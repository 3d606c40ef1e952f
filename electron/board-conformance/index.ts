/**
 * Conformance of a board's firmware to PROTOCOL.md, checked from the wire (`station board conformance`): every
 * command and every clause that a peer can observe, PASS / FAIL / SKIPPED each, with the section it cites. It needs
 * no backend: it acts as the cloud with the published development cloud key pair.
 */
export { runConformance, DEVELOPMENT_KEY_NOTE } from './runner';
export type { ConformanceOptions, ConformanceReport } from './runner';
export { formatConformanceTable, toConformanceJson, conformanceExitCode } from './format';
export type { ConformanceJson } from './format';
export { CHECKS, NEEDS_DESTRUCTIVE, NEEDS_LOCK, TEST_DEVICE_ID } from './catalogue';
export type { CheckDefinition, CheckId } from './catalogue';
export type { CheckOutcome, CheckResult } from './results';
export { PortOpenError } from './raw-line-port';
