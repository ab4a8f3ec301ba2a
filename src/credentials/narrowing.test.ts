import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actClaim, actorsOf, chooseScope, choosePurpose, grantedLifetime, mayDelegate, MAX_TOKEN_SECONDS, narrowExchange, parseScope,
  type ExchangeRequest, type SubjectGrant,
} from './narrowing.js';
import { OAuthError } from './oauth-errors.js';

const oauthCode = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof OAuthError) return e.code;
    throw e;
  }
};

const NOW = 1_800_000_000;
const subject = (over: Partial<SubjectGrant> = {}): SubjectGrant => ({
  sub: 'a', scope: ['read', 'write', 'tools'], audience: ['https://gw', 'urn:custos:resource:m'], purpose: 'support', exp: NOW + 900, actors: [], ...over,
});
const request = (over: Partial<ExchangeRequest> = {}): ExchangeRequest => ({
  actorId: 'b', actorApprovedScopes: ['read', 'tools', 'admin'], actorTier: 'medium', requestedScope: undefined, requestedAudience: undefined,
  requestedPurpose: undefined, requestedLifetime: undefined, now: NOW, maxDepth: 3, ...over,
});

describe('issuance choices', () => {
  it('caps the lifetime by risk tier, defaults to 15 minutes and refuses less than a minute', () => {
    expect(grantedLifetime(undefined, 'medium')).toBe(900);
    expect(grantedLifetime(7200, 'low')).toBe(3600);
    expect(grantedLifetime(3000, 'high')).toBe(1800);
    expect(grantedLifetime(3000, 'critical')).toBe(900);
    expect(grantedLifetime(60, 'critical')).toBe(60);
    expect(oauthCode(() => grantedLifetime(59, 'low'))).toBe('invalid_request');
    expect(oauthCode(() => grantedLifetime(90.5, 'low'))).toBe('invalid_request');
    for (const max of Object.values(MAX_TOKEN_SECONDS)) expect(max).toBeLessThanOrEqual(3600);
  });

  it('grants requested scopes only when approved, every approved one when none is asked for', () => {
    expect(chooseScope(undefined, ['a', 'b'])).toEqual(['a', 'b']);
    expect(chooseScope(['b'], ['a', 'b'])).toEqual(['b']);
    expect(oauthCode(() => chooseScope(['c'], ['a', 'b']))).toBe('invalid_scope');
    expect(parseScope('a  b a')).toEqual(['a', 'b']);
    expect(oauthCode(() => parseScope('a "b"'))).toBe('invalid_scope');
  });

  it('binds one allowed purpose; it may be omitted only when there is exactly one', () => {
    expect(choosePurpose(undefined, ['support'])).toBe('support');
    expect(choosePurpose('eval', ['support', 'eval'])).toBe('eval');
    expect(choosePurpose(undefined, [])).toBeNull();
    expect(oauthCode(() => choosePurpose(undefined, ['support', 'eval']))).toBe('invalid_request');
    expect(oauthCode(() => choosePurpose('training', ['support']))).toBe('invalid_request');
    expect(oauthCode(() => choosePurpose('training', []))).toBe('invalid_request');
  });
});

describe('token exchange narrowing', () => {
  it('intersects the subject scope with the actor\'s approved scopes and keeps audience and purpose', () => {
    const g = narrowExchange(subject(), request());
    expect(g).toEqual({ sub: 'a', scope: ['read', 'tools'], audience: ['https://gw', 'urn:custos:resource:m'], purpose: 'support', exp: NOW + 900, actors: ['b'] });
  });

  it('refuses a scope or audience wider than the subject, a changed purpose, depth over the limit and cycles', () => {
    expect(oauthCode(() => narrowExchange(subject(), request({ requestedScope: ['admin'] })))).toBe('invalid_scope');
    expect(oauthCode(() => narrowExchange(subject(), request({ requestedScope: ['write'] })))).toBe('invalid_scope');
    expect(oauthCode(() => narrowExchange(subject(), request({ requestedAudience: ['https://elsewhere'] })))).toBe('invalid_target');
    expect(oauthCode(() => narrowExchange(subject(), request({ requestedPurpose: 'training' })))).toBe('invalid_request');
    expect(narrowExchange(subject({ actors: ['c', 'd'] }), request()).actors).toEqual(['b', 'c', 'd']);
    expect(oauthCode(() => narrowExchange(subject({ actors: ['c', 'd', 'e'] }), request()))).toBe('invalid_request');
    expect(oauthCode(() => narrowExchange(subject({ actors: ['b'] }), request()))).toBe('invalid_request');
    expect(oauthCode(() => narrowExchange(subject(), request({ actorId: 'a' })))).toBe('invalid_request');
    expect(oauthCode(() => narrowExchange(subject({ exp: NOW }), request()))).toBe('invalid_grant');
  });

  it('never outlives the subject token and caps by the actor\'s tier', () => {
    expect(narrowExchange(subject({ exp: NOW + 120 }), request({ requestedLifetime: 3600 })).exp).toBe(NOW + 120);
    expect(narrowExchange(subject({ exp: NOW + 3600 }), request({ actorTier: 'critical', requestedLifetime: 3600 })).exp).toBe(NOW + 900);
  });

  it('writes and reads the act chain current actor outermost (RFC 8693 §4.1)', () => {
    expect(actClaim(['c', 'b'])).toEqual({ sub: 'c', act: { sub: 'b' } });
    expect(actClaim([])).toBeUndefined();
    expect(actorsOf({ sub: 'c', act: { sub: 'b' } })).toEqual(['c', 'b']);
    expect(actorsOf(undefined)).toEqual([]);
    expect(oauthCode(() => actorsOf({ act: { sub: 'b' } }))).toBe('invalid_grant');
    expect(oauthCode(() => actorsOf('b'))).toBe('invalid_grant');
  });

  it('lets a principal act for another only as the delegator\'s registration allows', () => {
    expect(mayDelegate(['id-b'], { id: 'id-b', kind: 'agent' })).toBe(true);
    expect(mayDelegate(['kind:agent'], { id: 'id-c', kind: 'agent' })).toBe(true);
    expect(mayDelegate(['kind:agent'], { id: 'id-c', kind: 'workload' })).toBe(false);
    expect(mayDelegate([], { id: 'id-b', kind: 'agent' })).toBe(false);
  });
});

describe('property: any chain of exchanges only narrows', () => {
  const SCOPES = ['s1', 's2', 's3', 's4', 's5'];
  const AUDS = ['https://a', 'https://b', 'https://c'];
  const subset = <T>(items: T[]) => fc.subarray(items);
  const hop = fc.record({
    approved: subset(SCOPES),
    requestScope: fc.option(subset(SCOPES), { nil: undefined }),
    requestAudience: fc.option(subset(AUDS), { nil: undefined }),
    lifetime: fc.option(fc.integer({ min: 60, max: 7200 }), { nil: undefined }),
    tier: fc.constantFrom('low', 'medium', 'high', 'critical' as const),
    elapsed: fc.integer({ min: 0, max: 600 }),
    keepPurpose: fc.boolean(),
  });

  it('scope, audience and lifetime stay within every ancestor\'s and purpose never changes', () => {
    fc.assert(fc.property(
      subset(SCOPES), fc.subarray(AUDS, { minLength: 1 }), fc.integer({ min: 60, max: 3600 }), fc.array(hop, { minLength: 1, maxLength: 6 }),
      (rootScope, rootAud, rootLife, hops) => {
        const root: SubjectGrant = { sub: 'p0', scope: rootScope, audience: rootAud, purpose: 'support', exp: NOW + rootLife, actors: [] };
        const chain: SubjectGrant[] = [root];
        let now = NOW;
        hops.forEach((h, i) => {
          now += h.elapsed;
          const parent = chain[chain.length - 1]!;
          let grant;
          try {
            grant = narrowExchange(parent, {
              actorId: `p${i + 1}`, actorApprovedScopes: h.approved, actorTier: h.tier, requestedScope: h.requestScope,
              requestedAudience: h.requestAudience, requestedPurpose: h.keepPurpose ? 'support' : undefined, requestedLifetime: h.lifetime, now, maxDepth: 3,
            });
          } catch (e) {
            expect(e).toBeInstanceOf(OAuthError);
            return;
          }
          for (const ancestor of chain) {
            expect(grant.scope.every((s) => ancestor.scope.includes(s))).toBe(true);
            expect(grant.audience.every((a) => ancestor.audience.includes(a))).toBe(true);
            expect(grant.exp).toBeLessThanOrEqual(ancestor.exp);
            expect(grant.purpose).toBe(ancestor.purpose);
            expect(grant.sub).toBe(ancestor.sub);
          }
          expect(grant.scope.every((s) => h.approved.includes(s))).toBe(true);
          expect(grant.actors.length).toBeLessThanOrEqual(3);
          expect(new Set(grant.actors).size).toBe(grant.actors.length);
          chain.push({ ...grant });
        });
      },
    ), { numRuns: 500 });
  });
});
