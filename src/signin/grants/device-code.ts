import { OAuthError, required, type GrantHandler } from '../../credentials/index.js';
import * as requests from '../requests.repo.js';
import { sha256 } from '../secrets.js';
import { DEVICE_POLL_SECONDS, type PersonGrantDeps } from './context.js';
import { firstSessionToken, publicClientId, refuseRedeemedTwice } from './person-token.js';

// grant_type=urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4, §3.5). Rules:
// - Unknown device code, or another client's → invalid_grant; past its 10 minutes → expired_token.
// - Not yet approved → authorization_pending; polled again within the interval → slow_down.
// - Denied → access_denied; already redeemed → the session revoked and invalid_grant.

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export function deviceCodeGrant(deps: PersonGrantDeps): GrantHandler {
  return async (_grantDeps, req) => {
    const clientId = publicClientId(req);
    const row = await requests.findByDeviceCodeHash(deps.db.kysely, sha256(required(req.params, 'device_code')));
    if (!row || row.kind !== 'device' || row.client_id !== clientId) throw new OAuthError('invalid_grant', 'unknown device code');
    const now = deps.clock.now();
    if (row.status === 'done') return refuseRedeemedTwice(deps, row, req, 'device code');
    if (row.expires_at <= now.toISOString()) throw new OAuthError('expired_token', 'the device code has expired; start again');
    if (row.status === 'denied') throw new OAuthError('access_denied', 'the person denied the request');
    if (row.status === 'pending' || row.status === 'authenticated') {
      const tooSoon = row.last_polled_at !== null && now.getTime() - Date.parse(row.last_polled_at) < DEVICE_POLL_SECONDS * 1000;
      await requests.updateRequest(deps.db.kysely, row.id, { last_polled_at: now.toISOString() });
      if (tooSoon) throw new OAuthError('slow_down', `poll at most every ${DEVICE_POLL_SECONDS} seconds`);
      throw new OAuthError('authorization_pending', 'the person has not finished signing in yet');
    }
    return firstSessionToken(deps, row, req, DEVICE_CODE_GRANT);
  };
}
