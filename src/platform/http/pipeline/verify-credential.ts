import type { Actor, Provenance } from '../../actor.js';

// Step: turn the presented credential into an Actor, or refuse with 401.
// The verifier itself lives with the credentials it knows (credentials/verifier.ts): one entry point that
// dispatches by credential kind, so every enforcement point verifies the same way. This file is the port.

export interface PresentedCredential {
  scheme: 'bearer' | 'dpop';
  token: string;
  /** Every DPoP header value (RFC 9449): checked when the token is bound to a key. */
  dpopProofs: string[];
  method: string;
  /** The URL the client addressed, without the query (a DPoP proof's `htu`). */
  url: string;
}

/** Resolves a presented credential (or its absence) to an Actor, or throws AppError('unauthenticated'). */
export type CredentialVerifier = (presented: PresentedCredential | undefined, provenance: Provenance) => Promise<Actor>;
