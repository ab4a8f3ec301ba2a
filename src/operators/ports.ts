import type { ActorPrincipal } from '../platform/actor.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';

// What the operators module needs from others, declared here by the consumer (identity and audit provide them).

/** Identity's directory, narrowed to what operator tokens need. */
export interface PrincipalLookup {
  principalByRef(ref: string, trx?: Trx): Promise<ActorPrincipal | undefined>;
  principalWithTeams(id: string): Promise<{ principal: ActorPrincipal; teamIds: string[] } | undefined>;
  principalNames(ids: string[], trx?: Trx): Promise<Map<string, string>>;
}

/** The audit writer, narrowed to what this module records through. */
export interface AuditRecorder {
  record(trx: Trx, batch: WriteBatch, input: import('../audit/writer.js').AuditInput): Promise<unknown>;
  hmac(value: string): string;
}
