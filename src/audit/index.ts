// The audit module's public surface: the one writer every module records through, the services behind
// /v1/audit, and the verifiers. Other modules import only from here.
export { registerAuditRoutes } from './audit.routes.js';
export { createAuditService, type AuditService } from './audit.service.js';
export { createCheckpointer, parseSinks, type Checkpointer } from './checkpointer.js';
export { loadOrCreateLogKey } from './log-key.js';
export { createRetention } from './retention.js';
export { createAuditWriter, type AuditWriter, type AuditInput, type AuditEvent } from './writer.js';
