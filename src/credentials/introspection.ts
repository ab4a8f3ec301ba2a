import type { IncomingHttpHeaders } from 'node:http';
import type { Actor, Provenance } from '../platform/actor.js';
import type { AccessTokenClaims, CredentialDirectory } from './contracts.js';
import { OAuthError } from './oauth-errors.js';
import type { AuthenticatedClient, ClientAuthenticator } from './token-endpoint/client-auth.js';
import { readParams, required, type OAuthParams } from './token-endpoint/params.js';

// Token introspection (RFC 7662) and revocation (RFC 7009) at /oauth/introspect and /oauth/revoke.
// Rules:
// - The caller authenticates: as a client (private_key_jwt or a client secret), or with an operator token of
//   the admin or security role (Bearer). Anyone else is invalid_client (401).
// - Introspection answers `active: true` only for a token this server issued that verifies now (signature,
//   issuer, expiry, revocation, every principal of its chain active) AND that the caller may see: its own
//   tokens (as subject or client), tokens addressed to a resource the caller serves (a registered resource
//   server), or any token for admin/security operators. Everything else is `{ active: false }`, which says
//   nothing about why (RFC 7662 §2.2).
// - Revocation revokes the token and every token derived from it (the family below it). A token that does not
//   verify (unknown, expired, revoked already) is answered 200 with nothing done (RFC 7009 §2.2); a token of
//   another client is refused (unauthorized_client).

export interface IntrospectionDeps {
  authenticateClient: ClientAuthenticator;
  /** The management API's bearer verification, for operators. */
  verifyOperator: (headers: IncomingHttpHeaders, provenance: Provenance) => Promise<Actor | undefined>;
  verifyIssuedToken: (token: string) => Promise<AccessTokenClaims>;
  directory: CredentialDirectory;
  issuer: () => string;
  revokeToken: (actor: Actor, jti: string, reason: string) => Promise<unknown>;
  clientActor: (client: AuthenticatedClient, provenance: Provenance) => Actor;
}

interface Caller {
  actor: Actor;
  /** null for admin/security operators, who may see every token. */
  principalId: string | null;
}

const audiences = (claims: AccessTokenClaims) => (Array.isArray(claims.aud) ? claims.aud : [claims.aud]);

export function createIntrospection(deps: IntrospectionDeps) {
  async function caller(headers: IncomingHttpHeaders, params: OAuthParams, provenance: Provenance): Promise<Caller> {
    if (/^bearer /i.test(headers.authorization ?? '')) {
      const actor = await deps.verifyOperator(headers, provenance).catch(() => undefined);
      if (!actor || (actor.role !== 'admin' && actor.role !== 'security')) {
        throw new OAuthError('invalid_client', 'introspection and revocation need client authentication or an admin or security operator token');
      }
      return { actor, principalId: null };
    }
    const client = await deps.authenticateClient(headers, params);
    if (!client) throw new OAuthError('invalid_client', 'client authentication is required');
    return { actor: deps.clientActor(client, provenance), principalId: client.principal.id };
  }

  async function visibleTo(who: Caller, claims: AccessTokenClaims): Promise<boolean> {
    if (who.principalId === null) return true;
    if (claims.sub === who.principalId || claims.client_id === who.principalId) return true;
    const issuer = deps.issuer();
    for (const aud of audiences(claims)) {
      // The management API is nobody's resource: a registered resource claiming its URL serves nothing here.
      if (aud === issuer) continue;
      const resource = await deps.directory.resourceByIndicator(aud);
      if (resource?.serverPrincipalId === who.principalId) return true;
    }
    return false;
  }

  async function verifiedOrNull(token: string): Promise<AccessTokenClaims | null> {
    try {
      return await deps.verifyIssuedToken(token);
    } catch {
      return null;
    }
  }

  return {
    async introspect(headers: IncomingHttpHeaders, body: unknown, provenance: Provenance): Promise<Record<string, unknown>> {
      const params = readParams(body);
      const who = await caller(headers, params, provenance);
      const token = required(params, 'token');
      const claims = await verifiedOrNull(token);
      if (!claims || !(await visibleTo(who, claims))) return { active: false };
      const username = (await deps.directory.principalNames([claims.sub])).get(claims.sub);
      return {
        active: true, iss: claims.iss, sub: claims.sub, aud: claims.aud, client_id: claims.client_id, scope: claims.scope,
        ...(claims.purpose ? { purpose: claims.purpose } : {}), jti: claims.jti, iat: claims.iat, exp: claims.exp,
        ...(claims.nbf !== undefined ? { nbf: claims.nbf } : {}), auth_time: claims.auth_time, token_type: claims.cnf ? 'DPoP' : 'Bearer',
        ...(claims.cnf ? { cnf: claims.cnf } : {}), ...(claims.act ? { act: claims.act } : {}), ...(username ? { username } : {}),
      };
    },

    async revoke(headers: IncomingHttpHeaders, body: unknown, provenance: Provenance): Promise<void> {
      const params = readParams(body);
      const who = await caller(headers, params, provenance);
      const token = required(params, 'token');
      const hint = params.one('token_type_hint');
      if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
        throw new OAuthError('unsupported_token_type', 'token_type_hint must be access_token');
      }
      const claims = await verifiedOrNull(token);
      if (!claims) return;
      if (who.principalId !== null && claims.sub !== who.principalId && claims.client_id !== who.principalId) {
        throw new OAuthError('unauthorized_client', 'this token was not issued to the client asking to revoke it');
      }
      await deps.revokeToken(who.actor, claims.jti, 'revoked through /oauth/revoke');
    },
  };
}
export type Introspection = ReturnType<typeof createIntrospection>;
