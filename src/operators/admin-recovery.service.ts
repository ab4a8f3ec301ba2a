import { nameSchema } from '../identity/index.js';
import type { Actor } from '../platform/actor.js';
import { AppError, errors } from '../platform/http/errors.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS } from './operator-tokens.schemas.js';
import type { OperatorTokenService } from './operator-tokens.service.js';
import type { AuditRecorder, PrincipalLookup } from './ports.js';

// Recovery from an admin lockout (every admin suspended, or every admin token revoked or expired). Only a host
// operator holding the master key gets here: `custos admin recover` opens the store directly and acts as
// systemActor('cli_local'); no HTTP route leads here. It mints a fresh admin token for a named active human, or
// registers that human first when asked to, and records both in the audit log, so a recovery is never silent.

/** Registers a human through identity's principal service (the PrincipalService satisfies this). */
export interface HumanRegistrar {
  createIn(trx: Trx, batch: WriteBatch, actor: Actor, input: { name: string; kind: 'human'; status: 'active'; reason?: string }): Promise<{ id: string; name: string }>;
}

export interface AdminRecoveryInput {
  /** The human to receive the token (id or name). */
  principal: string;
  /** Register the human if no principal has that name. */
  create?: boolean;
  ttlSeconds?: number;
  reason: string;
}

export interface AdminRecoveryResult {
  principal: { id: string; name: string };
  created: boolean;
  token_id: string;
  expires_at: string;
  /** Shown once. */
  token: string;
}

export function createAdminRecovery(deps: {
  db: Database; audit: AuditRecorder; identity: PrincipalLookup; principals: HumanRegistrar; tokens: Pick<OperatorTokenService, 'insert'>;
}) {
  return {
    async recover(actor: Actor, input: AdminRecoveryInput): Promise<AdminRecoveryResult> {
      if (actor.authMethod !== 'cli_local') throw errors.forbidden('admin recovery is only for a host operator holding the master key (custos admin recover)');
      const ttl = input.ttlSeconds ?? DEFAULT_TTL_SECONDS;
      if (!Number.isInteger(ttl) || ttl < MIN_TTL_SECONDS || ttl > MAX_TTL_SECONDS) {
        throw errors.validation(`ttl must be a whole number of seconds from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}`);
      }
      if (!input.reason.trim()) throw errors.validation('a recovery needs a reason: it is recorded in the audit log');
      return deps.db.write(async (trx, batch) => {
        let p = await deps.identity.principalByRef(input.principal, trx);
        let created = false;
        if (!p) {
          if (!input.create) throw new AppError('principal_not_found', `principal '${input.principal}' does not exist; pass create to register a new human`);
          const name = nameSchema.safeParse(input.principal);
          if (!name.success) throw errors.validation(`'${input.principal}' is not a valid principal name: ${name.error.issues[0]?.message ?? 'invalid'}`);
          const made = await deps.principals.createIn(trx, batch, actor, { name: input.principal, kind: 'human', status: 'active', reason: `admin recovery: ${input.reason}` });
          p = await deps.identity.principalByRef(made.id, trx);
          created = true;
        }
        if (!p) throw new AppError('principal_not_found', `principal '${input.principal}' does not exist`);
        if (p.kind !== 'human') throw new AppError('principal_not_human', `operator tokens are for humans; '${p.name}' is not one`);
        if (p.status !== 'active') {
          throw new AppError('principal_not_active', `principal '${p.name}' is ${p.status}; name another human (or a new one with create), then reactivate '${p.name}' with the new token`);
        }
        const { row, token } = await deps.tokens.insert(trx, batch, actor, p, 'admin', ttl, 'admin recovery token');
        await deps.audit.record(trx, batch, {
          type: 'operator.admin_recovered', action: 'operator.recover', actor,
          target: { type: 'principal', id: p.id, name: p.name }, outcome: 'success',
          details: { reason: input.reason, created, token_id: row.id, expires_at: row.expires_at },
        });
        return { principal: { id: p.id, name: p.name }, created, token_id: row.id, expires_at: row.expires_at, token };
      });
    },
  };
}
export type AdminRecovery = ReturnType<typeof createAdminRecovery>;
