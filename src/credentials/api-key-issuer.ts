import type { AuditWriter } from '../audit/index.js';
import { anonymousActor, credentialActor, type Actor, type ActorPrincipal, type Provenance } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { custosTokenMatches, parseCustosToken } from '../platform/credential-format.js';
import { errors } from '../platform/http/errors.js';
import type { Database } from '../platform/store/db.js';
import * as repo from './api-keys.repo.js';
import type { VerifyFailureReason } from './contracts.js';
import type { CredentialIssuer } from './verifier.js';

// The issuer of custos_ak_… keys as the one verifier (verifier.ts) sees it: turns a presented API key into the
// Actor its row binds (principal, scope, purpose, audience), or refuses it. Rules, in order:
// - the string parses as a Custos credential of kind 'ak' with a valid checksum (else malformed_token);
// - a row with its id exists and the SHA-256 of the whole key equals the stored hash, compared in constant
//   time (else unknown_token: a wrong secret and an unknown id look the same);
// - not revoked (token_revoked), not expired at the injected clock's now (token_expired);
// - its principal exists (unknown_principal) and is active (principal_not_active).
// Every refusal is an auth.failed event (the key only as an HMAC) and a 401 that names no secret. The hot path
// is one indexed lookup by primary key (a reusable statement) and the principal lookup; last_used_at is
// written at most once a minute per key.

const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiKeyIssuerDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  /** Identity's principal with its team memberships (the directory's principalWithTeams). */
  principals: (id: string) => Promise<{ principal: ActorPrincipal; teamIds: string[] } | undefined>;
}

const DETAIL: Partial<Record<VerifyFailureReason, string>> = {
  malformed_token: 'token is not a valid Custos API key',
  token_expired: 'API key has expired',
  token_revoked: 'API key has been revoked',
};

export function createApiKeyIssuer(deps: ApiKeyIssuerDeps): CredentialIssuer {
  const { db, audit, clock, principals } = deps;

  async function recordFailure(token: string, reason: string, provenance: Provenance, credentialId: string | null): Promise<void> {
    try {
      await db.write((trx, batch) => audit.record(trx, batch, {
        type: 'auth.failed', action: 'auth.authenticate',
        actor: anonymousActor('api_key', provenance, credentialId ? { id: credentialId, kind: 'api_key' } : null),
        outcome: 'failure', reasons: [reason],
        details: { token_hmac: audit.hmac(token) },
      }));
    } catch {
      // The request is refused whether or not its failure could be recorded.
    }
  }

  async function refuse(token: string, reason: VerifyFailureReason, provenance: Provenance, credentialId: string | null): Promise<never> {
    await recordFailure(token, reason, provenance, credentialId);
    throw errors.unauthenticated(DETAIL[reason] ?? 'API key is not valid');
  }

  return {
    recordFailure,

    async authenticate(token: string, provenance: Provenance): Promise<Actor> {
      const parsed = parseCustosToken(token);
      if (!parsed || parsed.kind !== 'ak') return refuse(token, 'malformed_token', provenance, null);
      const row = await repo.findKey(db.kysely, parsed.id);
      if (!row || !custosTokenMatches(token, row.secret_hash)) return refuse(token, 'unknown_token', provenance, row ? row.id : null);
      const now = clock.now();
      if (row.revoked_at) return refuse(token, 'token_revoked', provenance, row.id);
      if (new Date(row.expires_at) <= now) return refuse(token, 'token_expired', provenance, row.id);
      const holder = await principals(row.principal_id);
      if (!holder) return refuse(token, 'unknown_principal', provenance, row.id);
      if (holder.principal.status !== 'active') return refuse(token, 'principal_not_active', provenance, row.id);

      if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() >= LAST_USED_RESOLUTION_MS) {
        // Best effort: a store hiccup on this bookkeeping never refuses a valid key.
        await db.write((trx) => repo.markUsed(trx, row.id, now.toISOString())).catch(() => undefined);
      }
      return credentialActor({
        principal: holder.principal,
        credential: { id: row.id, kind: 'api_key', issuedAt: row.created_at, expiresAt: row.expires_at },
        authMethod: 'api_key',
        teamIds: holder.teamIds,
        scope: row.scope ? row.scope.split(' ') : [],
        purpose: row.purpose,
        audience: JSON.parse(row.audience) as string[],
        binding: null,
        delegationChain: [],
        provenance,
      });
    },
  };
}
export type ApiKeyIssuer = ReturnType<typeof createApiKeyIssuer>;
