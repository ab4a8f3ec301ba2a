// The audit module's public surface: the one writer every module records through, the services behind
// /v1/audit, and the verifiers. Other modules import only from here.
//
// Files by role: writer.ts (records, high-water mark), checkpointer.ts (tree, checkpoints, the server's
// integrity checks through log-scanner.ts), integrity.ts (the failure record), recovery.ts (the audited
// recovery), verify-log.ts (pure whole-log verification), verify-store.ts (a store, offline or for the API),
// verify-sqlite-fast.ts (+ -worker, -protocol: the SQLite fast path), stored-row.ts and verify-delegation.ts
// (query columns and delegation rows against the canonical event), tree-state.ts (the tree state pruning,
// verification and the checkpointer share), retention.ts (archives and pruning).
export { registerAuditRoutes } from './audit.routes.js';
export { createAuditService, type AuditService } from './audit.service.js';
export { createCheckpointer, parseSinks, type Checkpointer } from './checkpointer.js';
export { loadOrCreateLogKey } from './log-key.js';
export { createRetention } from './retention.js';
export { createAuditWriter, type AuditWriter, type AuditInput, type AuditEvent } from './writer.js';
export { verifyLog, type VerifyReport, type VerifyProblem } from './verify-log.js';
export { verifyStore, verifyDatabase } from './verify-store.js';
export type { IntegrityFailure } from './integrity.js';
