import type { Actor } from '../platform/actor.js';
import type { Database } from '../platform/store/db.js';
import type { AuditRecorder } from './ports.js';

// A management call refused by the role table is a deny decision, and deny decisions are recorded:
// one `authz.denied` event naming the route and the missing permission. Best effort: the caller is
// refused whether or not the record could be written (the pipeline throws 403 after this returns).

export function createDenialRecorder(deps: { db: Database; audit: AuditRecorder }) {
  return async (actor: Actor, permission: string, route: string): Promise<void> => {
    await deps.db.write((trx, batch) => deps.audit.record(trx, batch, {
      type: 'authz.denied', action: permission, actor, decision: 'deny', outcome: 'failure',
      reasons: [`role '${actor.role}' lacks '${permission}'`], target: { type: 'route', id: null, name: route },
    })).then(() => undefined, () => undefined);
  };
}
