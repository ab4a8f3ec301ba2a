import { describe, expect, it } from 'vitest';
import { credentialActor, NO_PROVENANCE, operatorActor, type Actor } from '../platform/actor.js';
import { compareKeys, inState, isSelfService, lifetimeSeconds, mayActOn, ownsToken, sortKey } from './inventory.service.js';
import type { InventoryItem } from './inventory.schemas.js';

// Who may see and revoke whose credentials, and the one order pages follow across kinds.

const human = (id: string) => ({ id, name: id, kind: 'human', status: 'active', ownerId: null });
const op = (role: 'admin' | 'security' | 'auditor' | 'owner', teams: string[] = []) =>
  operatorActor({ principal: human('me'), credentialId: 'c', role, teamIds: teams, provenance: NO_PROVENANCE });
const self = (kind: 'access_token' | 'api_key' | 'operator_token'): Actor => credentialActor({
  principal: human('me'), credential: { id: 'c', kind }, authMethod: 'api_key', teamIds: [], scope: [], purpose: null, audience: [],
  binding: null, delegationChain: [], provenance: NO_PROVENANCE,
});

describe('inventory access', () => {
  const mine = { id: 'me', name: 'me', ownerId: null };
  const owned = { id: 'a', name: 'a', ownerId: 'me' };
  const teamOwned = { id: 'b', name: 'b', ownerId: null, ownerTeamId: 't1' };
  const other = { id: 'c', name: 'c', ownerId: 'someone', ownerTeamId: 't2' };

  it('admins and security do everything, auditors only read', () => {
    for (const p of [mine, owned, other]) {
      expect([mayActOn(op('admin'), p, 'revoke'), mayActOn(op('security'), p, 'revoke')]).toEqual([true, true]);
      expect([mayActOn(op('auditor'), p, 'read'), mayActOn(op('auditor'), p, 'revoke')]).toEqual([true, false]);
    }
  });

  it('owners act on themselves and what they own directly or through their team; an unknown team owner fails closed', () => {
    const o = op('owner', ['t1']);
    expect([mine, owned, teamOwned, other].map((p) => mayActOn(o, p, 'revoke'))).toEqual([true, true, true, false]);
    expect(mayActOn(o, { id: 'd', name: 'd', ownerId: null }, 'read')).toBe(false);
  });

  it('a principal acting with its own access token or API key acts on itself only', () => {
    for (const kind of ['access_token', 'api_key'] as const) {
      expect(isSelfService(self(kind))).toBe(true);
      expect([mine, owned, other].map((p) => mayActOn(self(kind), p, 'read'))).toEqual([true, false, false]);
    }
    expect(isSelfService(self('operator_token'))).toBe(false);
    expect(mayActOn(self('operator_token'), mine, 'read')).toBe(false);
    expect(ownsToken(self('api_key'), { principal_id: 'me', client_id: 'x' })).toBe(true);
    expect(ownsToken(self('api_key'), { principal_id: 'x', client_id: 'me' })).toBe(true);
    expect(ownsToken(self('api_key'), { principal_id: 'x', client_id: 'y' })).toBe(false);
  });
});

describe('inventory order and states', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z');
  const item = (id: string, created: number, expires: number | null, extra: Partial<InventoryItem> = {}): InventoryItem => ({
    id, kind: 'api_key', principal: { id: 'p', name: 'p' }, created_at: new Date(created).toISOString(),
    expires_at: expires === null ? null : new Date(expires).toISOString(), last_used_at: null, revoked_at: null, details: {}, ...extra,
  });

  it('lifetime in whole seconds, endless when it never expires', () => {
    expect(lifetimeSeconds(item('a', now, now + 900_400))).toBe(900);
    expect(lifetimeSeconds(item('a', now, null))).toBeGreaterThan(1e12);
  });

  it('sorts by expiry soonest first (never last), by lifetime longest first, ties by id', () => {
    const a = item('a', now, now + 60_000);
    const b = item('b', now, now + 60_000);
    const c = item('c', now - 86_400_000, null);
    const d = item('d', now - 3600_000, now + 120_000);
    const order = (sort: 'id' | 'expires_at' | 'lifetime') => [d, c, b, a].sort((x, y) => compareKeys(sort, sortKey(sort, x), sortKey(sort, y))).map((i) => i.id);
    expect(order('id')).toEqual(['a', 'b', 'c', 'd']);
    expect(order('expires_at')).toEqual(['a', 'b', 'd', 'c']);
    expect(order('lifetime')).toEqual(['c', 'd', 'a', 'b']);
  });

  it('live, expiring within a window, never used (access tokens are never "never used")', () => {
    const live = item('a', now, now + 3600_000);
    expect(inState(live, 'live', now, 60)).toBe(true);
    expect(inState({ ...live, revoked_at: 'x' }, 'live', now, 60)).toBe(false);
    expect(inState(item('e', now - 10, now), 'live', now, 60)).toBe(false);
    expect(inState(live, 'expiring', now, 3599)).toBe(false);
    expect(inState(live, 'expiring', now, 3600)).toBe(true);
    expect(inState(item('n', now, null), 'expiring', now, 1e9)).toBe(false);
    expect(inState(live, 'never_used', now, 0)).toBe(true);
    expect(inState({ ...live, last_used_at: 'x' }, 'never_used', now, 0)).toBe(false);
    expect(inState({ ...live, kind: 'access_token' }, 'never_used', now, 0)).toBe(false);
  });
});
