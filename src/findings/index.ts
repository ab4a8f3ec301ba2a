// The findings module's public surface: the server side of secret scanning.
export { createFindingService, type FindingService, type LeakRevoker } from './findings.service.js';
export { registerFindingRoutes, REPORT_BODY_LIMIT } from './findings.routes.js';
export type { FindingView, ReportInput } from './findings.schemas.js';
export { FINDING_STATUSES, type FindingStatus } from './priority.js';
export { SEVERITIES } from './findings.schemas.js';
export { reportBody } from './findings.schemas.js';
export { toReportBody } from './report-body.js';
