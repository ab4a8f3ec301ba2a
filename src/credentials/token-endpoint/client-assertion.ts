import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import type { Clock } from '../../platform/clock.js';
import type { ClientMaterial, CredentialDirectory, CredentialPrincipal, RegisteredClientKey, ReplayStore } from '../contracts.js';
import { OAuthError } from '../oauth-errors.js';
import type { PendingClaim } from '../replay-store.js';

// Step: a private_key_jwt client assertion (RFC 7523 §2.2, §3), used to authenticate a client at the token
// endpoint and as a token exchange's actor token.
// Rules:
// - `iss` = `sub` = the client id (the principal's id, or its name); a `client_id` parameter, when sent, names
//   the same principal.
// - Signed by one of the keys registered for that principal. With a `kid`, only the key with that kid is tried;
//   without one (the MCP SDK sends none) each registered key is tried. The algorithm is the key's, never the
//   header's choice: a header alg other than the key's does not verify.
// - `aud` is the issuer or the token endpoint URL; `exp` required and at most 5 minutes ahead; `jti` required
//   and single use (the replay store, shared by every node on the database); clock leeway 30 s.
// - Every refusal is invalid_client, and says why without echoing the assertion.
// - With `{ deferClaim: true }` the jti is not claimed here: the answer carries the claim, and the caller must
//   make it (replay.claimIn) in the transaction that records what the assertion obtains, refusing with
//   REPLAY_REFUSAL and writing nothing when it was seen (the token endpoint: one durable write per token).

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const LEEWAY_SECONDS = 30;
const MAX_AHEAD_SECONDS = 300;

/** RFC 9864 names Ed25519 signatures `Ed25519`; older clients say `EdDSA`. Both verify with an Ed25519 key. */
function fitsKey(headerAlg: unknown, keyAlg: string): boolean {
  if (headerAlg === keyAlg) return true;
  return (keyAlg === 'EdDSA' || keyAlg === 'Ed25519') && (headerAlg === 'EdDSA' || headerAlg === 'Ed25519');
}

export interface AssertionDeps {
  directory: CredentialDirectory;
  clientMaterial: ClientMaterial;
  replay: ReplayStore;
  clock: Clock;
  /** The issuer and the token endpoint URL: the audiences an assertion may name. */
  audiences: () => string[];
}

export interface AssertedClient {
  principal: CredentialPrincipal;
  keyId: string;
  /** Set with `deferClaim`: the jti claim the caller still has to make. */
  pendingClaim?: PendingClaim;
}

/** The refusal of an assertion whose jti was seen before (an OAuthError invalid_client, told apart by its class). */
export class ReplayRefused extends OAuthError {
  constructor() {
    super('invalid_client', 'client assertion refused: jti was used before (replay)');
  }
}
export const replayRefusal = () => new ReplayRefused();

type ImportedKey = CryptoKey | KeyObject | Uint8Array;

export function createClientAssertionVerifier(deps: AssertionDeps) {
  // Imported keys by registered key id (a registered key never changes; removal drops it from clientKeys()).
  const imported = new Map<string, ImportedKey>();
  async function keyFor(k: RegisteredClientKey): Promise<ImportedKey> {
    let key = imported.get(k.id);
    if (!key) {
      key = await importJWK(k.jwk, k.alg);
      if (imported.size >= 10_000) imported.delete(imported.keys().next().value!);
      imported.set(k.id, key);
    }
    return key;
  }

  return async function verifyClientAssertion(assertion: string, expectedClientId: string | undefined, opts: { deferClaim?: boolean } = {}): Promise<AssertedClient> {
    const refuse = (why: string): never => { throw new OAuthError('invalid_client', `client assertion refused: ${why}`); };
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      return refuse('not a signed JWT');
    }
    if (typeof claims.iss !== 'string' || claims.iss !== claims.sub) return refuse('iss and sub must both be the client id');
    const principal = await deps.directory.principal(claims.iss);
    if (!principal) return refuse('unknown client');
    if (expectedClientId !== undefined) {
      const named = expectedClientId === principal.id || expectedClientId === principal.name;
      if (!named) return refuse('client_id does not match the assertion');
    }
    const registered = await deps.clientMaterial.clientKeys(principal.id);
    const byKid = registered.filter((k) => header.kid === undefined || k.kid === header.kid);
    if (byKid.length === 0) return refuse(header.kid === undefined ? 'no registered key' : 'unknown kid');
    const candidates = byKid.filter((k) => fitsKey(header.alg, k.alg));
    if (candidates.length === 0) return refuse(`no registered key for algorithm ${String(header.alg).slice(0, 20)}`);
    const now = deps.clock.now();
    let used: RegisteredClientKey | undefined;
    for (const candidate of candidates) {
      try {
        await jwtVerify(assertion, await keyFor(candidate), {
          algorithms: [header.alg as string], issuer: claims.iss, subject: claims.iss,
          audience: deps.audiences(), clockTolerance: LEEWAY_SECONDS, currentDate: now, requiredClaims: ['exp', 'jti', 'aud'],
        });
        used = candidate;
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ERR_JWT_EXPIRED') return refuse('expired');
        if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return refuse(`claim ${(error as { claim?: string }).claim ?? ''} is not valid`.trim());
        // A signature that does not verify with this key: try the next one.
      }
    }
    if (!used) return refuse('signature does not verify with any registered key');
    const exp = claims.exp!;
    if (exp > now.getTime() / 1000 + MAX_AHEAD_SECONDS + LEEWAY_SECONDS) return refuse('exp is more than 5 minutes ahead');
    const jti = claims.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) return refuse('jti must be a string of 1-256 characters');
    const claim: PendingClaim = { kind: 'client_assertion', id: `${principal.id}:${jti}`, expiresAt: new Date((exp + LEEWAY_SECONDS) * 1000) };
    if (opts.deferClaim) return { principal, keyId: used.id, pendingClaim: claim };
    const fresh = await deps.replay.claimOnce(claim.kind, claim.id, claim.expiresAt);
    if (!fresh) throw replayRefusal();
    return { principal, keyId: used.id };
  };
}
export type ClientAssertionVerifier = ReturnType<typeof createClientAssertionVerifier>;
