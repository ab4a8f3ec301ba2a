// Public surface of the scanner module.
export { runScanCli, EXIT as SCAN_EXIT_CODES } from './cli.js';
export type { ScanIo, ReportOptions } from './cli.js';
export { scanDirectory, scanGitHistory, scanContainerImage } from './scan.service.js';
export type { ScanOptions } from './scan.service.js';
export { createEngine } from './engine.js';
export type { Engine, RuleTuning } from './engine.js';
export { RULES } from './rules/rules.js';
export { formatCustosToken, parseCustosToken } from '../platform/credential-format.js';
export type { CustosTokenKind } from '../platform/credential-format.js';
export { renderJson, statusOf } from './report/json.js';
export { renderSarif } from './report/sarif.js';
export { redact, createSecretHasher, lengthBucket } from './finding.js';
export type { SecretHasher } from './finding.js';
export { loadScanKey, scanKeyPath } from './scan-key.js';
export type { Finding, Location, Rule, ScanResult, Severity } from './types.js';
