import { OAuthError, required, type GrantHandler } from '../../credentials/index.js';
import { verifierMatches } from '../pkce.js';
import * as requests from '../requests.repo.js';
import { sha256 } from '../secrets.js';
import type { StoredRequest } from '../flow.js';
import type { PersonGrantDeps } from './context.js';
import { firstSessionToken, publicClientId, refuseRedeemedTwice } from './person-token.js';

// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6). Rules:
// - The code is looked up by its SHA-256; unknown, expired (60 s), not yet approved → invalid_grant.
// - Used before → the session it started is revoked and invalid_grant (RFC 6749 §4.1.2).
// - client_id must be the one the code was issued to; redirect_uri must equal the authorization request's exactly;
//   BASE64URL(SHA256(code_verifier)) must equal the code_challenge. Any mismatch → invalid_grant, and the code is
//   not spent (a wrong guess does not let an attacker burn the person's code — it expires in a minute anyway).
// - `resource` (RFC 8707 §2.2) narrows the token to some of the consented audience; outside it → invalid_target.

export function authorizationCodeGrant(deps: PersonGrantDeps): GrantHandler {
  return async (_grantDeps, req) => {
    const clientId = publicClientId(req);
    const code = required(req.params, 'code');
    const row = await requests.findByCodeHash(deps.db.kysely, sha256(code));
    if (!row || row.kind !== 'authorize') throw new OAuthError('invalid_grant', 'unknown authorization code');
    if (row.status === 'done') return refuseRedeemedTwice(deps, row, req, 'authorization code');
    if (row.status !== 'approved') throw new OAuthError('invalid_grant', 'this authorization code is not valid');
    if (row.expires_at <= deps.clock.now().toISOString()) throw new OAuthError('invalid_grant', 'the authorization code has expired');
    if (row.client_id !== clientId) throw new OAuthError('invalid_grant', 'the authorization code was issued to another client');
    const stored = JSON.parse(row.request) as StoredRequest;
    if (req.params.one('redirect_uri') !== stored.redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri differs from the authorization request\'s');
    if (!stored.codeChallenge || !verifierMatches(req.params.one('code_verifier'), stored.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge (PKCE S256)');
    }
    return firstSessionToken(deps, row, req, 'authorization_code');
  };
}
