import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Database, Trx, WriteBatch } from '../../platform/store/db.js';
import type { AuditWriter } from '../../audit/index.js';
import { signAccessToken } from '../access-token.js';
import type { AccessTokenClaims, SigningKeyStore } from '../contracts.js';
import { actClaim } from '../narrowing.js';
import { OAuthError } from '../oauth-errors.js';
import type { PendingClaim, TransactionalReplayStore } from '../replay-store.js';
import * as revocations from '../revocations.repo.js';
import * as tokens from '../tokens.repo.js';
import { replayRefusal } from './client-assertion.js';

// Step: sign the access token and record it — the row (what was issued, never the token) and the audit event
// commit in one transaction, and the token is returned only after that commit (audit before response).
// Rules:
// - RFC 9068 claims: iss, sub, aud, client_id, scope, purpose, jti, iat, exp, auth_time; cnf.jkt when DPoP-bound;
//   act when delegated; amr names how the client authenticated.
// - An exchange re-reads its subject token's row inside the transaction: a subject revoked a moment ago
//   cannot parent a new token (revocation and exchange serialise on the store's writer). Likewise the client key
//   or secret the client authenticated with: revoked in between, no token.
// - A client assertion's jti, when the caller deferred its claim (client-auth.ts), is claimed first in that same
//   transaction: seen before → invalid_client, nothing written and no token returned. So single use holds across
//   nodes and restarts as with claimOnce, and a token costs one durable write, not two.

export interface IssueRequest {
  /** Who asked, as the audit log names them. */
  actor: Actor;
  sub: { id: string; name: string };
  clientId: string;
  scope: string[];
  audience: string[];
  purpose: string | null;
  /** Seconds since the epoch. */
  exp: number;
  authTime: number;
  jkt: string | null;
  /** Current actor first (RFC 8693 act), empty when not delegated. */
  actors: string[];
  parent: { jti: string; familyId: string; depth: number } | null;
  grantType: string;
  authMethod: string;
  credentialId: string | null;
  /** RFC 9068 §2.2.3.1 `roles`: a signed-in person's operator role, only on tokens for the management API. */
  roles?: string[];
  /** Runs inside the transaction that records the token (after its row is written), for what must commit with
   * it: a sign-in session's new refresh token, a code marked used. What it returns is added to the response. */
  withinIssue?: (trx: Trx, batch: WriteBatch, token: { jti: string; iat: number; exp: number }) => Promise<Record<string, string | number> | void>;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  issued_token_type?: string;
  jti: string;
  /** Added by the grant's withinIssue (refresh_token). */
  [extra: string]: string | number | undefined;
}

export function createTokenIssuer(deps: {
  db: Database; audit: AuditWriter; keys: SigningKeyStore; clock: Clock; newId: IdGenerator; issuer: () => string; replay: TransactionalReplayStore;
}) {
  return async function issue(req: IssueRequest, pendingClaim?: PendingClaim): Promise<IssuedToken> {
    const key = await deps.keys.current().catch(() => { throw new OAuthError('temporarily_unavailable', 'no signing key is available'); });
    const jti = deps.newId();
    const iat = Math.floor(deps.clock.now().getTime() / 1000);
    const act = actClaim(req.actors);
    const claims: AccessTokenClaims = {
      iss: deps.issuer(), sub: req.sub.id, aud: req.audience.length === 1 ? req.audience[0]! : req.audience, client_id: req.clientId,
      scope: req.scope.join(' '), ...(req.purpose ? { purpose: req.purpose } : {}), jti, iat, exp: req.exp, auth_time: req.authTime,
      ...(req.jkt ? { cnf: { jkt: req.jkt } } : {}), ...(act ? { act } : {}), amr: [req.authMethod],
      ...(req.roles && req.roles.length > 0 ? { roles: req.roles } : {}),
    };
    const token = await signAccessToken(key, claims);
    const exchange = req.parent !== null;
    const recorded = await deps.db.write(async (trx, batch) => {
      // The claim decides before anything is written: a refused claim inserted nothing, so returning (not
      // throwing) leaves the transaction clean and the other jobs of the batch unaffected.
      if (pendingClaim && !await deps.replay.claimIn(trx, pendingClaim.kind, pendingClaim.id, pendingClaim.expiresAt)) return false as const;
      if (req.parent) {
        const parent = await tokens.findToken(trx, req.parent.jti);
        if (!parent || parent.revoked_at) throw new OAuthError('invalid_grant', 'the subject token has been revoked');
      }
      // The client was authenticated before this transaction: a revocation of its key or secret that committed in
      // between must not leave a token no revocation covers (tokens obtained with it are revoked by jti).
      if (req.credentialId && await revocations.findRevocation(trx, 'credential', req.credentialId)) {
        throw new OAuthError('invalid_client', 'the credential the client authenticated with has just been revoked');
      }
      await tokens.insertToken(trx, {
        jti, principal_id: req.sub.id, client_id: req.clientId, family_id: req.parent?.familyId ?? jti, parent_jti: req.parent?.jti ?? null,
        depth: req.parent ? req.parent.depth + 1 : 0, grant_type: req.grantType, auth_method: req.authMethod, credential_id: req.credentialId,
        scope: claims.scope, audience: JSON.stringify(req.audience), purpose: req.purpose, jkt: req.jkt, act_chain: JSON.stringify(req.actors),
        kid: key.kid, issued_at: new Date(iat * 1000).toISOString(), expires_at: new Date(req.exp * 1000).toISOString(), revoked_at: null, revoked_reason: null,
      });
      await deps.audit.record(trx, batch, {
        type: exchange ? 'credential.token.exchanged' : 'credential.token.issued', action: 'credential.issue', actor: req.actor,
        target: { type: 'access_token', id: jti, name: req.sub.name }, outcome: 'success',
        details: {
          grant_type: req.grantType, auth_method: req.authMethod, sub: req.sub.id, client_id: req.clientId, scope: req.scope, audience: req.audience,
          purpose: req.purpose, expires_at: new Date(req.exp * 1000).toISOString(), dpop_jkt: req.jkt, act_chain: req.actors,
          parent_jti: req.parent?.jti ?? null, family_id: req.parent?.familyId ?? jti, credential_id: req.credentialId, kid: key.kid,
          ...(req.roles && req.roles.length > 0 ? { roles: req.roles } : {}),
        },
      });
      return (await req.withinIssue?.(trx, batch, { jti, iat, exp: req.exp })) ?? {};
    });
    if (recorded === false) throw replayRefusal();
    return {
      ...recorded,
      access_token: token, token_type: req.jkt ? 'DPoP' : 'Bearer', expires_in: req.exp - iat, scope: claims.scope, jti,
      ...(exchange ? { issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' } : {}),
    };
  };
}
export type TokenIssuer = ReturnType<typeof createTokenIssuer>;
