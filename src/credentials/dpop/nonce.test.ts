import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../platform/clock.js';
import { CredentialRejected } from '../contracts.js';
import { checkNonce, createDpopNonces, NONCE_STEP_SECONDS } from './nonce.js';

const key = Buffer.alloc(32, 7);
const STEP_MS = NONCE_STEP_SECONDS * 1000;

describe('createDpopNonces', () => {
  it('issues <step>.<HMAC-SHA256 of the step> and accepts it during this and the next step only', () => {
    const clock = manualClock(new Date(1000 * STEP_MS)); // the start of step 1000
    const nonces = createDpopNonces({ key, clock });
    const nonce = nonces.issue();
    const expectedMac = crypto.createHmac('sha256', key).update('custos-dpop-nonce\n1000').digest('base64url');
    expect(nonce).toBe(`1000.${expectedMac}`);
    expect(nonces.accepts(nonce)).toBe(true);
    clock.advance(STEP_MS - 1); // last instant of its own step
    expect(nonces.accepts(nonce)).toBe(true);
    expect(nonces.issue()).toBe(nonce);
    clock.advance(1); // the next step: still accepted, and a new nonce is issued
    expect(nonces.accepts(nonce)).toBe(true);
    expect(nonces.issue()).not.toBe(nonce);
    clock.advance(STEP_MS); // two steps on
    expect(nonces.accepts(nonce)).toBe(false);
  });

  it('refuses a nonce from a step ahead, a forged MAC, another key and garbage', () => {
    const clock = manualClock(new Date(500 * STEP_MS));
    const nonces = createDpopNonces({ key, clock });
    clock.advance(STEP_MS);
    const ahead = nonces.issue();
    clock.advance(-STEP_MS);
    expect(nonces.accepts(ahead)).toBe(false);
    const nonce = nonces.issue();
    const [step, mac] = nonce.split('.') as [string, string];
    const flipped = `${step}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    expect(nonces.accepts(flipped)).toBe(false);
    expect(createDpopNonces({ key: Buffer.alloc(32, 8), clock }).accepts(nonce)).toBe(false);
    for (const bad of ['', '500', `${step}.`, `${step}.${mac}x`, `+${step}.${mac}`, `${step}.${mac.slice(1)}`, `0${step}.${mac}`]) {
      expect(nonces.accepts(bad)).toBe(false);
    }
  });

  it('needs a 32-byte key', () => {
    expect(() => createDpopNonces({ key: Buffer.alloc(16), clock: manualClock() })).toThrow('32 bytes');
  });
});

describe('checkNonce', () => {
  const clock = manualClock(new Date(42 * STEP_MS));
  const nonces = createDpopNonces({ key, clock });
  const reasonOf = (nonce: unknown, required: boolean) => {
    try {
      checkNonce(nonce, nonces, required);
    } catch (error) {
      expect(error).toBeInstanceOf(CredentialRejected);
      return [(error as CredentialRejected).reason, (error as Error).message];
    }
    return 'accepted';
  };

  it('accepts no nonce when none is required, and a current nonce either way', () => {
    expect(reasonOf(undefined, false)).toBe('accepted');
    expect(reasonOf(nonces.issue(), false)).toBe('accepted');
    expect(reasonOf(nonces.issue(), true)).toBe('accepted');
  });

  it('asks for a nonce when one is required and missing, or when the one given is not current', () => {
    expect(reasonOf(undefined, true)).toEqual(['dpop_nonce_required', 'DPoP proof must carry a server nonce']);
    expect(reasonOf('made-up', false)).toEqual(['dpop_nonce_required', 'DPoP proof nonce is not a current server nonce']);
    expect(reasonOf('', true)).toEqual(['dpop_nonce_required', 'DPoP proof nonce is not a current server nonce']);
  });

  it('refuses a nonce that is not a string as a malformed proof', () => {
    expect(reasonOf(42, false)).toEqual(['dpop_invalid', 'DPoP proof nonce is not a string']);
    expect(reasonOf(null, true)).toEqual(['dpop_invalid', 'DPoP proof nonce is not a string']);
  });
});
