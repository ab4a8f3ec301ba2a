import type { JWSHeaderParameters } from 'jose';
import type { ActorPrincipal } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import {
  CredentialRejected, type AccessTokenClaims, type DpopVerifier, type PresentedRequest, type RevocationState,
  type SigningKeyStore, type VerificationKey, type VerifyFailureReason,
} from '../contracts.js';

// What the access-token checks share: the dependencies they read, the state one verification builds up as it
// goes (each check fills in what the next needs), and the one way a check refuses.

export interface PrincipalRecord {
  principal: ActorPrincipal;
  teamIds: string[];
}

export type PrincipalLookup = (id: string) => Promise<PrincipalRecord | undefined>;

export interface VerifyDeps {
  keys: SigningKeyStore;
  /** Our own issuer identifier: `iss` must equal it exactly. */
  issuer: string;
  clock: Clock;
  revocations: RevocationState;
  dpop: DpopVerifier;
  principals: PrincipalLookup;
  /** Clock skew allowed on exp, nbf and iat (seconds, 0-30). */
  leewaySeconds: number;
}

export interface VerifyState {
  readonly token: string;
  readonly request: PresentedRequest;
  /** The enforcement point's own identifier: `aud` must contain it. */
  readonly audience: string;
  /** Seconds since the epoch (whole seconds, like every JWT time claim), read once per verification. */
  readonly now: number;
  /** Set by parse: the protected header, decoded but not yet trusted. */
  header?: JWSHeaderParameters;
  /** Set by key. */
  key?: VerificationKey;
  /** Set by signature: the verified payload. */
  payload?: Record<string, unknown>;
  /** Set by claims: the payload once every claim has its required shape. */
  claims?: AccessTokenClaims;
  /** Set by claims: principal ids of the `act` chain, outermost (the current actor) first. */
  actChain?: string[];
  /** Set by principals (or from the cache): the subject and every actor of the chain. */
  principals?: Map<string, PrincipalRecord>;
}

export type Check = (state: VerifyState, deps: VerifyDeps) => void | Promise<void>;

/** The token's jti once its payload is verified (null before: an unverified jti names nothing). */
export function credentialIdOf(state: VerifyState): string | null {
  if (state.claims) return state.claims.jti;
  const jti = state.payload?.jti;
  return typeof jti === 'string' && jti.length > 0 && jti.length <= 200 ? jti : null;
}

export function reject(state: VerifyState, reason: VerifyFailureReason, detail: string): never {
  throw new CredentialRejected(reason, detail, credentialIdOf(state));
}
