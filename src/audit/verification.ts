// The audit module's second public entry: what a client needs to check the log with the public key alone
// (the CLI, an auditor's script), without loading the server side that index.ts exports (writer,
// checkpointer, services, the SQLite fast path). Other modules import only from here or from index.ts.
export { openCheckpoint, parseVerifierKey } from './checkpoint.js';
export { hashLeafText, verifyConsistency, verifyInclusion } from './merkle.js';
export { archiveDigest, verifyArchive, type AuditArchive } from './retention.js';
export { parseState, type SerializedState } from './tree-state.js';
export { verifyLog, type VerifyReport } from './verify-log.js';
