import type { IncomingHttpHeaders } from 'node:http';
import type { AuthMethod } from '../../platform/actor.js';
import type { ClientMaterial, CredentialDirectory, CredentialPrincipal } from '../contracts.js';
import { OAuthError } from '../oauth-errors.js';
import type { PendingClaim } from '../replay-store.js';
import { ASSERTION_TYPE, type ClientAssertionVerifier } from './client-assertion.js';
import type { OAuthParams } from './params.js';

// Step: who the client is (RFC 6749 §2.3, RFC 7523 §2.2).
// Rules:
// - Methods: private_key_jwt (preferred: no shared secret), client_secret_basic, client_secret_post. A request
//   using more than one is invalid_request (RFC 6749 §2.3); none at all is "unauthenticated", which only the
//   jwt-bearer grant accepts (its assertion is the authentication).
// - Basic credentials are form-urlencoded inside the base64 (RFC 6749 §2.3.1); a refused Basic client gets 401
//   with `WWW-Authenticate: Basic`.
// - The client id is the principal's id or its name; unknown clients and wrong secrets are both invalid_client.
// - With `{ deferClaim: true }` a private_key_jwt client comes back with the assertion's jti claim still to make
//   (client-assertion.ts); only the token endpoint asks for that, and makes it in the issuing transaction.

export interface AuthenticatedClient {
  principal: CredentialPrincipal;
  method: Extract<AuthMethod, 'private_key_jwt' | 'client_secret'>;
  /** The client key or client secret it authenticated with. */
  credentialId: string;
  /** With `deferClaim`: the client assertion's jti claim, still to make. */
  pendingClaim?: PendingClaim;
}

export interface ClientAuthDeps {
  directory: CredentialDirectory;
  clientMaterial: ClientMaterial;
  verifyAssertion: ClientAssertionVerifier;
}

const BASIC = /^basic ([A-Za-z0-9+/=]{1,4096})$/i;
const basicChallenge = { 'www-authenticate': 'Basic realm="custos"' };

function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

function readBasic(header: string | undefined): { id: string; secret: string } | undefined {
  if (header === undefined) return undefined;
  const match = BASIC.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw new OAuthError('invalid_client', 'malformed Basic credentials', basicChallenge);
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthError('invalid_client', 'malformed Basic credentials', basicChallenge);
  }
}

export function createClientAuthenticator(deps: ClientAuthDeps) {
  async function bySecret(clientId: string, secret: string, basic: boolean): Promise<AuthenticatedClient> {
    const refuse = () => new OAuthError('invalid_client', 'client authentication failed', basic ? basicChallenge : {});
    const principal = await deps.directory.principal(clientId);
    if (!principal) throw refuse();
    const secretId = await deps.clientMaterial.checkClientSecret(principal.id, secret);
    if (!secretId) throw refuse();
    return { principal, method: 'client_secret', credentialId: secretId };
  }

  return async function authenticateClient(headers: IncomingHttpHeaders, params: OAuthParams, opts: { deferClaim?: boolean } = {}): Promise<AuthenticatedClient | undefined> {
    const basic = readBasic(headers.authorization);
    const postSecret = params.one('client_secret');
    const assertion = params.one('client_assertion');
    const used = [basic, postSecret, assertion].filter((x) => x !== undefined).length;
    if (used > 1) throw new OAuthError('invalid_request', 'use exactly one client authentication method');
    const clientId = params.one('client_id');

    if (assertion !== undefined) {
      if (params.one('client_assertion_type') !== ASSERTION_TYPE) throw new OAuthError('invalid_client', `client_assertion_type must be ${ASSERTION_TYPE}`);
      const { principal, keyId, pendingClaim } = await deps.verifyAssertion(assertion, clientId, opts);
      return { principal, method: 'private_key_jwt', credentialId: keyId, ...(pendingClaim ? { pendingClaim } : {}) };
    }
    if (basic) {
      if (clientId !== undefined && clientId !== basic.id) throw new OAuthError('invalid_request', 'client_id does not match the Basic credentials');
      return bySecret(basic.id, basic.secret, true);
    }
    if (postSecret !== undefined) {
      if (clientId === undefined) throw new OAuthError('invalid_client', 'client_id is required with client_secret');
      return bySecret(clientId, postSecret, false);
    }
    return undefined;
  };
}
export type ClientAuthenticator = ReturnType<typeof createClientAuthenticator>;
