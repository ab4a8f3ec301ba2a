import type { AuditWriter } from '../audit/index.js';
import type { Provenance } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { IdGenerator } from '../platform/ids.js';
import type { Database } from '../platform/store/db.js';
import { OAuthError, type OAuthParams } from '../credentials/index.js';
import { AuthorizePageError } from './authorize/index.js';
import type { OAuthClient } from './contracts.js';
import { admissionRefusal, requesterOf } from './admission.js';
import { REQUEST_SECONDS, type Outcome, type StoredRequest } from './flow.js';
import { DEVICE_POLL_SECONDS } from './grants/context.js';
import { DEVICE_CODE_GRANT } from './grants/device-code.js';
import { devicePage, messagePage } from './pages/render.js';
import * as requests from './requests.repo.js';
import { csrfToken, normaliseUserCode, randomSecret, randomUserCode, sameSecret, sha256 } from './secrets.js';

// The device authorization grant (RFC 8628) for headless machines (`custos login --device`):
//   POST /oauth/device_authorization → device_code, user_code, verification_uri(_complete), expires_in, interval
//   the person opens /device on any browser, types the user code → the same sign-in and consent pages
//   the device polls /oauth/token with the device code (grants/device-code.ts).
// Rules:
// - Only clients registered for the device grant may start one; scope and resource are syntax-checked here and
//   decided for the person at consent, as for the authorization endpoint.
// - The device code is stored as SHA-256; the user code (8 letters, no vowels) is unique among live requests.
// - The first browser to enter a user code is bound to the request; another browser entering it later is refused
//   (the code was typed twice or leaked). The entry form is CSRF protected like every other form.

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const DEVICE_CSRF = 'device-entry';

export function createDeviceFlow(deps: {
  db: Database; audit: AuditWriter; clock: Clock; newId: IdGenerator; issuer: () => string; csrfKey: Buffer;
  findClient: (clientId: string) => Promise<OAuthClient>;
}) {
  const { db, clock } = deps;

  return {
    /** POST /oauth/device_authorization (form-encoded, public client). */
    async start(params: OAuthParams, provenance: Provenance) {
      const clientId = params.one('client_id');
      if (!clientId) throw new OAuthError('invalid_request', 'client_id is required');
      let client: OAuthClient;
      try {
        client = await deps.findClient(clientId);
      } catch (error) {
        if (error instanceof AuthorizePageError) throw new OAuthError('invalid_client', error.message);
        throw error;
      }
      if (!client.grantTypes.includes(DEVICE_CODE_GRANT)) throw new OAuthError('unauthorized_client', `${client.name} is not registered for the device authorization grant`);
      const scopeRaw = params.one('scope');
      const scope = scopeRaw === undefined ? undefined : [...new Set(scopeRaw.split(' ').filter(Boolean))];
      if (scope && (scope.length > 50 || scope.some((s) => !SCOPE_TOKEN.test(s)))) throw new OAuthError('invalid_scope', 'scope must be up to 50 printable ASCII tokens');
      const resource = params.many('resource');
      for (const r of resource) {
        let ok = !r.includes('#');
        try { new URL(r); } catch { ok = false; }
        if (!ok) throw new OAuthError('invalid_target', 'a resource indicator must be an absolute URI without a fragment (RFC 8707)');
      }
      const purpose = params.one('purpose') ?? null;
      const deviceCode = randomSecret();
      const userCode = randomUserCode();
      const id = deps.newId();
      const now = clock.now();
      const stored: StoredRequest = {
        redirectUri: null, state: null, codeChallenge: null, scope, resource, purpose, userCode,
        client: { name: client.name, source: client.source, clientUri: client.clientUri ?? null, refreshable: client.grantTypes.includes('refresh_token') },
      };
      const requester = requesterOf(provenance.sourceIp);
      const refusal = await admissionRefusal(db.kysely, now.toISOString(), requester);
      if (refusal) throw new OAuthError('temporarily_unavailable', refusal);
      // Not audited (anyone may start one); the person's sign-in and consent are, with the request's details.
      await db.write(async (trx) => {
        await requests.insertRequest(trx, {
          id, kind: 'device', client_id: client.clientId, request: JSON.stringify(stored), browser_hash: null, upstream_sealed: null, principal_id: null,
          auth: null, upstream_refresh_sealed: null, status: 'pending', code_hash: null, device_code_hash: sha256(deviceCode), user_code: userCode,
          last_polled_at: null, session_id: null, requester, created_at: now.toISOString(), expires_at: new Date(now.getTime() + REQUEST_SECONDS * 1000).toISOString(),
        });
      });
      const verification = `${deps.issuer()}/device`;
      return {
        device_code: deviceCode, user_code: userCode, verification_uri: verification,
        verification_uri_complete: `${verification}?user_code=${encodeURIComponent(userCode)}`, expires_in: REQUEST_SECONDS, interval: DEVICE_POLL_SECONDS,
      };
    },

    /** GET /device */
    entryPage(binding: string, userCode?: string, error?: string): Outcome {
      return { kind: 'page', page: devicePage({ csrf: csrfToken(deps.csrfKey, DEVICE_CSRF, binding), userCode, error }), status: error ? 400 : 200 };
    },

    /** POST /device — the user code typed; the request is bound to this browser and on to sign-in. */
    async enter(binding: string, form: URLSearchParams, origin: string | undefined): Promise<Outcome> {
      if ((origin !== undefined && origin !== new URL(deps.issuer()).origin) || !sameSecret(form.get('csrf') ?? '', csrfToken(deps.csrfKey, DEVICE_CSRF, binding))) {
        return { kind: 'page', page: messagePage('Not accepted', 'This form is stale or was not ours; open the device page again.', 'error'), status: 400 };
      }
      const typed = form.get('user_code') ?? '';
      const code = normaliseUserCode(typed);
      const row = code ? await requests.findByUserCode(db.kysely, code) : undefined;
      if (!row || row.kind !== 'device' || row.status !== 'pending' || row.expires_at <= clock.now().toISOString()) {
        return this.entryPage(binding, typed.slice(0, 20), 'That code is not valid or has expired. Check your device.');
      }
      const hash = sha256(binding);
      if (row.browser_hash === null) {
        if (!await requests.bindBrowser(db.kysely, row.id, hash)) return this.entryPage(binding, undefined, 'That code was just entered in another browser.');
      } else if (!sameSecret(row.browser_hash, hash)) {
        return this.entryPage(binding, undefined, 'That code was already entered in another browser.');
      }
      return { kind: 'redirect', location: `/signin/${row.id}` };
    },
  };
}
export type DeviceFlow = ReturnType<typeof createDeviceFlow>;
