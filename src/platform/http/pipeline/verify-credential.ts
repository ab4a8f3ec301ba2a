import type { Actor, Provenance } from '../../actor.js';

// Step: turn the presented credential into an Actor, or refuse with 401.
// The verifier itself lives with the credentials it knows (credentials/verifier.ts): one entry point that
// dispatches by credential kind, so every enforcement point verifies the same way. This file is the port.

export interface PresentedCredential {
  scheme: 'bearer';
  token: string;
}

/** Resolves a presented credential (or its absence) to an Actor, or throws AppError('unauthenticated'). */
export type CredentialVerifier = (presented: PresentedCredential | undefined, provenance: Provenance) => Promise<Actor>;
