import { NO_PROVENANCE } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import {
  CredentialRejected, type AccessTokenClaims, type AccessTokenVerifier, type DpopVerifier, type PresentedRequest, type RevocationState,
  type SigningKeyStore, type VerifiedAccessToken,
} from '../contracts.js';
import { PRINCIPALS_FRESH_SECONDS, type VerifiedCache, type VerifiedEntry } from '../verified-cache.js';
import { accessTokenActor } from './actor.js';
import { audience } from './audience.js';
import { binding } from './binding.js';
import { claims } from './claims.js';
import type { Check, PrincipalLookup, VerifyDeps, VerifyState } from './context.js';
import { header } from './header.js';
import { key } from './key.js';
import { lifetime } from './lifetime.js';
import { parse } from './parse.js';
import { principals } from './principals.js';
import { revocation } from './revocation.js';
import { signature } from './signature.js';

// Verifying a JWT access token (RFC 9068, RFC 8725, RFC 9449): an ordered table of small checks, each in its own
// file with its rules at the top. The first throws CredentialRejected(reason, detail, jti-or-null); nothing
// after it runs.
//
//   VERIFIED_ONCE (skipped on a verified-cache hit):  parse → header → key → signature → claims
//   EVERY_TIME:                                       audience → lifetime → revocation → principals → binding
//
// A token is cached once it passed VERIFIED_ONCE; a hit still asks the key store whether the token's key
// verifies (in memory), and runs every EVERY_TIME check (the principals lookup may come from the cache: see
// verified-cache.ts). The Actor is built last (actor.ts).
//
// Tokens presented to the token endpoint (a token exchange's subject or actor token) or to introspection are
// inspected by ISSUED_TOKEN_CHECKS: ours, intact, within their lifetime, unrevoked, their principals active;
// no audience (any of our tokens may be exchanged or introspected) and no DPoP proof (the token is not being
// used at a resource there). No cache: those endpoints see a token once or twice.

export const VERIFIED_ONCE: readonly Check[] = [parse, header, key, signature, claims];
export const EVERY_TIME: readonly Check[] = [audience, lifetime, revocation, principals, binding];
export const ISSUED_TOKEN_CHECKS: readonly Check[] = [...VERIFIED_ONCE, lifetime, revocation, principals];

export const DEFAULT_LEEWAY_SECONDS = 30;
export const MAX_LEEWAY_SECONDS = 30;

export interface AccessTokenVerifierDeps {
  keys: SigningKeyStore;
  /** Our issuer identifier (`iss` must equal it), or a function read at each verification. */
  issuer: string | (() => string);
  clock: Clock;
  revocations: RevocationState;
  dpop: DpopVerifier;
  principals: PrincipalLookup;
  /** Clock skew allowed on exp, nbf and iat: default 30 seconds, never more. */
  leewaySeconds?: number;
  cache?: VerifiedCache;
}

function leewayOf(deps: { leewaySeconds?: number }): number {
  const leewaySeconds = deps.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (!Number.isInteger(leewaySeconds) || leewaySeconds < 0 || leewaySeconds > MAX_LEEWAY_SECONDS) {
    throw new RangeError(`leewaySeconds must be a whole number from 0 to ${MAX_LEEWAY_SECONDS}`);
  }
  return leewaySeconds;
}

function checkDepsOf(deps: Omit<AccessTokenVerifierDeps, 'cache'>, leewaySeconds: number): () => VerifyDeps {
  const base = {
    keys: deps.keys, clock: deps.clock, revocations: deps.revocations, dpop: deps.dpop, principals: deps.principals, leewaySeconds,
  };
  const { issuer } = deps;
  if (typeof issuer === 'string') {
    const fixed: VerifyDeps = { ...base, issuer };
    return () => fixed;
  }
  return () => ({ ...base, issuer: issuer() });
}

const nowOf = (clock: Clock) => Math.floor(clock.now().getTime() / 1000);

export function createAccessTokenVerifier(deps: AccessTokenVerifierDeps): AccessTokenVerifier {
  const currentDeps = checkDepsOf(deps, leewayOf(deps));
  const { cache } = deps;

  /** A cache entry whose key still verifies and whose issuer is still ours, or undefined (such an entry is dropped). */
  async function usableHit(token: string, issuer: string): Promise<VerifiedEntry | undefined> {
    const hit = cache?.get(token);
    if (!hit) return undefined;
    if (hit.claims.iss === issuer && await deps.keys.verificationKey(hit.kid)) return hit;
    cache!.delete(token);
    return undefined;
  }

  return {
    async verify(request: PresentedRequest, audienceId: string): Promise<VerifiedAccessToken> {
      const checkDeps = currentDeps();
      const state: VerifyState = { token: request.token, request, audience: audienceId, now: nowOf(deps.clock) };
      let entry = await usableHit(request.token, checkDeps.issuer);
      let principalsCached = false;
      if (entry) {
        state.claims = entry.claims;
        state.actChain = entry.actChain;
        if (entry.principals && state.now < entry.principals.checkedAt + PRINCIPALS_FRESH_SECONDS) {
          state.principals = entry.principals.byId;
          principalsCached = true;
        }
      } else {
        for (const check of VERIFIED_ONCE) await check(state, checkDeps);
        entry = cache?.set(request.token, { kid: state.key!.kid, claims: state.claims!, actChain: state.actChain! });
      }
      try {
        for (const check of EVERY_TIME) await check(state, checkDeps);
      } catch (error) {
        if (error instanceof CredentialRejected && error.reason === 'expired') cache?.delete(request.token);
        throw error;
      }
      if (entry && !principalsCached) entry.principals = { byId: state.principals!, checkedAt: state.now };
      return {
        claims: state.claims!,
        actor: accessTokenActor({ claims: state.claims!, actChain: state.actChain!, principals: state.principals!, provenance: request.provenance }),
      };
    },
  };
}

/** For the token endpoint and introspection: the claims of a token we issued that is still good (ISSUED_TOKEN_CHECKS). */
export function createIssuedTokenInspector(deps: Omit<AccessTokenVerifierDeps, 'cache'>): (token: string) => Promise<AccessTokenClaims> {
  const currentDeps = checkDepsOf(deps, leewayOf(deps));
  return async (token: string) => {
    const checkDeps = currentDeps();
    const request: PresentedRequest = { token, scheme: 'bearer', dpopProofs: [], method: '', url: '', provenance: NO_PROVENANCE };
    const state: VerifyState = { token, request, audience: '', now: nowOf(deps.clock) };
    for (const check of ISSUED_TOKEN_CHECKS) await check(state, checkDeps);
    return state.claims!;
  };
}

export type { Check, PrincipalLookup, PrincipalRecord, VerifyDeps, VerifyState } from './context.js';
export { accessTokenActor, AMR_AUTH_METHODS } from './actor.js';
