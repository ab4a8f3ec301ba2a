import { describe, expect, it } from 'vitest';
import { CredentialRejected } from '../contracts.js';
import { oneProof } from './one-proof.js';

const refused = (values: string[]) => {
  try {
    oneProof(values);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialRejected);
    return { reason: (error as CredentialRejected).reason, detail: (error as Error).message };
  }
  throw new Error('accepted');
};

describe('oneProof', () => {
  it('returns the one proof, trimmed', () => {
    expect(oneProof(['a.b.c'])).toBe('a.b.c');
    expect(oneProof(['  a.b.c \t'])).toBe('a.b.c');
  });

  it('refuses no proof, an empty one, two headers and a comma list', () => {
    expect(refused([])).toEqual({ reason: 'dpop_invalid', detail: 'no DPoP proof' });
    expect(refused(['  '])).toEqual({ reason: 'dpop_invalid', detail: 'no DPoP proof' });
    expect(refused(['a.b.c', 'a.b.c'])).toEqual({ reason: 'dpop_invalid', detail: 'more than one DPoP header' });
    expect(refused(['a.b.c', 'd.e.f', 'g.h.i']).detail).toBe('more than one DPoP header');
    expect(refused(['a.b.c, d.e.f'])).toEqual({ reason: 'dpop_invalid', detail: 'more than one DPoP proof in the DPoP header' });
    expect(refused(['a.b.c,']).detail).toBe('more than one DPoP proof in the DPoP header');
  });
});
