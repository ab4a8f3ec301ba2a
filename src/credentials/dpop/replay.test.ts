import { describe, expect, it } from 'vitest';
import { CredentialRejected, type ReplayStore } from '../contracts.js';
import { claimProof } from './replay.js';

// The replay check against a store double that records what it is asked; the store itself is tested on both
// backends in replay-store.test.ts and end to end in test/credentials/dpop.test.ts.

function recordingStore() {
  const seen = new Set<string>();
  const calls: Array<{ kind: string; id: string; expiresAt: string }> = [];
  const store: ReplayStore = {
    async claimOnce(kind, id, expiresAt) {
      calls.push({ kind, id, expiresAt: expiresAt.toISOString() });
      if (seen.has(`${kind}|${id}`)) return false;
      seen.add(`${kind}|${id}`);
      return true;
    },
    async prune() { return 0; },
  };
  return { store, calls };
}

describe('claimProof', () => {
  it('claims dpop jkt:jti until iat + window, and refuses the second claim', async () => {
    const { store, calls } = recordingStore();
    const proof = { jkt: 'thumb', jti: 'j-1', iat: 1_767_225_600, windowSeconds: 60 };
    await claimProof(store, proof);
    expect(calls).toEqual([{ kind: 'dpop', id: 'thumb:j-1', expiresAt: '2026-01-01T00:01:00.000Z' }]);
    const error = await claimProof(store, proof).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialRejected);
    expect((error as CredentialRejected).reason).toBe('dpop_invalid');
    expect((error as Error).message).toBe('DPoP proof was already used (jti replay)');
  });

  it('treats the same jti under another key as another proof, and rounds a fractional expiry up', async () => {
    const { store, calls } = recordingStore();
    await claimProof(store, { jkt: 'a', jti: 'j', iat: 1_767_225_600.2501, windowSeconds: 60 });
    await claimProof(store, { jkt: 'b', jti: 'j', iat: 1_767_225_600, windowSeconds: 60 });
    expect(calls.map((c) => c.id)).toEqual(['a:j', 'b:j']);
    expect(calls[0]!.expiresAt).toBe('2026-01-01T00:01:00.251Z');
  });
});
