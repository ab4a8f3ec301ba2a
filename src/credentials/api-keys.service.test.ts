import { describe, expect, it } from 'vitest';
import { NO_PROVENANCE, operatorActor, credentialActor, type Actor, type OperatorRole } from '../platform/actor.js';
import { AppError } from '../platform/http/errors.js';
import {
  apiKeyLifetime, chooseApiKeyPurpose, chooseApiKeyScope, DAY_SECONDS, MAX_API_KEY_SECONDS, mayManageKeysOf, mayReadOrRevokeKeysOf, maxApiKeySeconds, rotationExpiries,
} from './api-keys.service.js';

// The API key rules as pure functions: lifetime caps by tier, scope and purpose choice, who manages whose keys,
// and the two expiries of a rotation.

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
  return undefined;
}

const op = (role: OperatorRole, id = 'me', teamIds: string[] = []): Actor =>
  operatorActor({ principal: { id, name: id, kind: 'human', status: 'active', ownerId: null }, credentialId: 'c', role, teamIds, provenance: NO_PROVENANCE });

describe('API key lifetime', () => {
  it('caps by risk tier at exactly 90, 30, 7 and 1 days; an unknown tier counts as critical', () => {
    expect(MAX_API_KEY_SECONDS).toEqual({ low: 7_776_000, medium: 2_592_000, high: 604_800, critical: 86_400 });
    expect(maxApiKeySeconds('bogus')).toBe(DAY_SECONDS);
    for (const [tier, max] of Object.entries(MAX_API_KEY_SECONDS)) {
      expect(apiKeyLifetime(max, tier)).toBe(max);
      expect(codeOf(() => apiKeyLifetime(max + 1, tier))).toBe('ttl_too_long');
    }
    expect(codeOf(() => apiKeyLifetime(DAY_SECONDS + 1, 'bogus'))).toBe('ttl_too_long');
  });

  it('says the maximum in max_seconds', () => {
    try {
      apiKeyLifetime(8 * DAY_SECONDS, 'high');
      expect.fail('no error');
    } catch (error) {
      expect((error as AppError).extensions).toEqual({ max_seconds: 7 * DAY_SECONDS });
    }
  });
});

describe('API key scope and purpose', () => {
  it('scope defaults to every approved scope, keeps a subset (deduplicated) and refuses anything else', () => {
    expect(chooseApiKeyScope(undefined, ['a', 'b'])).toEqual(['a', 'b']);
    expect(chooseApiKeyScope(['b', 'b'], ['a', 'b'])).toEqual(['b']);
    expect(chooseApiKeyScope([], ['a'])).toEqual([]);
    expect(codeOf(() => chooseApiKeyScope(['a', 'c'], ['a', 'b']))).toBe('scope_not_allowed');
    expect(codeOf(() => chooseApiKeyScope(['a'], []))).toBe('scope_not_allowed');
  });

  it('purpose: one of the allowed; omitted only with exactly one (taken) or none (null)', () => {
    expect(chooseApiKeyPurpose('x', ['x', 'y'])).toBe('x');
    expect(chooseApiKeyPurpose(undefined, ['only'])).toBe('only');
    expect(chooseApiKeyPurpose(undefined, [])).toBeNull();
    expect(codeOf(() => chooseApiKeyPurpose(undefined, ['x', 'y']))).toBe('purpose_not_allowed');
    expect(codeOf(() => chooseApiKeyPurpose('z', ['x', 'y']))).toBe('purpose_not_allowed');
    expect(codeOf(() => chooseApiKeyPurpose('z', []))).toBe('purpose_not_allowed');
  });
});

describe('who manages whose API keys', () => {
  const owned = { id: 'agent', ownerId: 'me', ownerTeamId: null };
  const teamOwned = { id: 'agent', ownerId: null, ownerTeamId: 'team-1' };
  const foreign = { id: 'agent', ownerId: 'someone-else', ownerTeamId: 'team-2' };

  it('admin and security manage all; owners what they or their teams own; auditors nothing', () => {
    for (const p of [owned, teamOwned, foreign]) {
      expect(mayManageKeysOf(op('admin'), p)).toBe(true);
      expect(mayManageKeysOf(op('security'), p)).toBe(true);
      expect(mayManageKeysOf(op('auditor'), p)).toBe(false);
    }
    expect(mayManageKeysOf(op('owner'), owned)).toBe(true);
    expect(mayManageKeysOf(op('owner', 'me', ['team-1']), teamOwned)).toBe(true);
    expect(mayManageKeysOf(op('owner', 'me', ['team-1']), foreign)).toBe(false);
    expect(mayManageKeysOf(op('owner'), teamOwned)).toBe(false);
    expect(mayManageKeysOf(op('owner'), { ownerId: 'me' })).toBe(true);
  });

  it('a principal acting with its own key reads and revokes its own keys only, and manages none', () => {
    const self = credentialActor({
      principal: { id: 'agent', name: 'agent', kind: 'agent', status: 'active', ownerId: 'me' }, credential: { id: 'k', kind: 'api_key' },
      authMethod: 'api_key', teamIds: [], scope: [], purpose: null, audience: [], binding: null, delegationChain: [], provenance: NO_PROVENANCE,
    });
    expect(mayReadOrRevokeKeysOf(self, owned)).toBe(true);
    expect(mayReadOrRevokeKeysOf(self, { ...owned, id: 'other' })).toBe(false);
    expect(mayManageKeysOf(self, owned)).toBe(false);
    expect(mayReadOrRevokeKeysOf(op('auditor'), foreign)).toBe(true);
    expect(mayReadOrRevokeKeysOf(op('owner'), foreign)).toBe(false);
  });
});

describe('rotation expiries', () => {
  const now = new Date('2026-03-01T00:00:00.000Z');
  const old = { created_at: '2026-02-28T12:00:00.000Z', expires_at: '2026-03-01T12:00:00.000Z' }; // 24 h key, 12 h left

  it('the successor lives the original lifetime again; the old key lives the overlap unless it ends sooner', () => {
    expect(rotationExpiries(old, now, 3600, 'low')).toEqual({
      newExpiresAt: new Date('2026-03-02T00:00:00.000Z'), oldExpiresAt: new Date('2026-03-01T01:00:00.000Z'),
    });
    expect(rotationExpiries(old, now, 7 * DAY_SECONDS, 'low').oldExpiresAt).toEqual(new Date(old.expires_at));
    expect(rotationExpiries(old, now, 0, 'low').oldExpiresAt).toEqual(now);
  });

  it('caps the successor by the tier the principal has now', () => {
    const long = { created_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-03-31T00:00:00.000Z' }; // 89 days
    expect(rotationExpiries(long, now, 0, 'high').newExpiresAt).toEqual(new Date(now.getTime() + 7 * DAY_SECONDS * 1000));
    expect(rotationExpiries(long, now, 0, 'low').newExpiresAt).toEqual(new Date(now.getTime() + 89 * DAY_SECONDS * 1000));
  });
});
