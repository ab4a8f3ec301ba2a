import crypto from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import { invalidProof, nonceRequired } from './reject.js';

// Check 6 of the DPoP table, and the nonces it checks: server-provided nonces (RFC 9449 §8, §9), stateless so
// that every node sharing the nonce key accepts every other node's nonces with nothing stored.
//
// Rules (nonces):
// - A nonce is `<step>.<mac>`: the time step (floor(now / 30 s), decimal) and base64url(HMAC-SHA256(nonceKey,
//   "custos-dpop-nonce\n" + step)). The step is in the clear so a check computes one MAC, not several.
// - A nonce is accepted during its own step and the next one (so for 30 to 60 seconds), never for a step ahead of
//   the clock, never for one two or more steps old. MACs are compared in constant time.
// - The nonce key is 32 bytes; it is not the signing key and never leaves the process.
//
// Rules (the check):
// - A `nonce` claim that is not a string → dpop_invalid (a malformed proof, not a stale one).
// - A string nonce that we did not issue or that is stale → dpop_nonce_required, whether or not nonces are required:
//   the client retries with the fresh one the caller puts in the DPoP-Nonce header.
// - No nonce when nonces are required → dpop_nonce_required; no nonce when not required → accepted.

export const NONCE_STEP_SECONDS = 30;

const NONCE = /^(0|[1-9]\d{0,14})\.([A-Za-z0-9_-]{43})$/; // one spelling per nonce: no leading zeros

export interface DpopNonces {
  /** A fresh nonce for the DPoP-Nonce response header. */
  issue(): string;
  /** True for a nonce of the current or the previous step. */
  accepts(nonce: string): boolean;
}

export function createDpopNonces(deps: { key: Buffer; clock: Clock }): DpopNonces {
  const { key, clock } = deps;
  if (key.length !== 32) throw new Error('the DPoP nonce key must be 32 bytes');
  const mac = (step: number) => crypto.createHmac('sha256', key).update(`custos-dpop-nonce\n${step}`).digest('base64url');
  const currentStep = () => Math.floor(clock.now().getTime() / (NONCE_STEP_SECONDS * 1000));
  return {
    issue() {
      const step = currentStep();
      return `${step}.${mac(step)}`;
    },
    accepts(nonce) {
      const match = NONCE.exec(nonce);
      if (!match) return false;
      const step = Number(match[1]);
      const current = currentStep();
      if (step !== current && step !== current - 1) return false;
      return crypto.timingSafeEqual(Buffer.from(match[2]!), Buffer.from(mac(step)));
    },
  };
}

export function checkNonce(nonce: unknown, nonces: DpopNonces, requireNonce: boolean): void {
  if (nonce === undefined) {
    if (requireNonce) throw nonceRequired('DPoP proof must carry a server nonce');
    return;
  }
  if (typeof nonce !== 'string') throw invalidProof('DPoP proof nonce is not a string');
  if (!nonces.accepts(nonce)) throw nonceRequired('DPoP proof nonce is not a current server nonce');
}
