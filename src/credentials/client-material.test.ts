import { describe, expect, it } from 'vitest';
import { NO_PROVENANCE, operatorActor, systemActor, type Actor, type OperatorRole } from '../platform/actor.js';
import { manualClock } from '../platform/clock.js';
import { AppError } from '../platform/http/errors.js';
import type { CredentialPrincipal } from './contracts.js';
import {
  assertMayHoldMaterial, createClientMaterial, mayIssueMaterialTo, mayReadMaterialOf, mayRevokeMaterialOf, usageThrottle,
} from './client-material.js';

// The rules both client-material services share: who may read, add and revoke whose keys and secrets, who may
// hold them, how often use is recorded, and which service a credential id belongs to.

const principal = (over: Partial<CredentialPrincipal> = {}): CredentialPrincipal => ({
  id: 'p-agent', name: 'agent', kind: 'agent', status: 'active', ownerId: 'p-alice', ownerTeamId: null,
  scopes: [], purposes: [], riskTier: 'low', mayDelegateTo: [], dataCeiling: null, teamIds: [], ...over,
});

const op = (role: OperatorRole, id = 'p-alice', teamIds: string[] = []): Actor => operatorActor({
  principal: { id, name: id, kind: 'human', status: 'active', ownerId: null }, credentialId: 'c', role, teamIds, provenance: NO_PROVENANCE,
});

const roleless = (id: string): Actor => ({ ...systemActor(), role: null, label: null, authMethod: 'private_key_jwt', principal: { id, name: id, kind: 'agent', status: 'active', ownerId: null } });

describe('who may read, add and revoke', () => {
  it('admin and security manage anyone\'s; auditors only read', () => {
    const p = principal({ ownerId: 'someone-else' });
    for (const role of ['admin', 'security'] as const) expect([mayReadMaterialOf(op(role, 'x'), p), mayIssueMaterialTo(op(role, 'x'), p), mayRevokeMaterialOf(op(role, 'x'), p)]).toEqual([true, true, true]);
    expect([mayReadMaterialOf(op('auditor', 'x'), p), mayIssueMaterialTo(op('auditor', 'x'), p), mayRevokeMaterialOf(op('auditor', 'x'), p)]).toEqual([true, false, false]);
  });

  it('an owner-role operator manages what it owns directly or through a team it belongs to, nothing else', () => {
    expect(mayIssueMaterialTo(op('owner', 'p-alice'), principal())).toBe(true);
    expect(mayIssueMaterialTo(op('owner', 'p-bob'), principal())).toBe(false);
    expect(mayReadMaterialOf(op('owner', 'p-bob'), principal())).toBe(false);
    const teamOwned = principal({ ownerId: null, ownerTeamId: 't-1' });
    expect(mayIssueMaterialTo(op('owner', 'p-bob', ['t-1']), teamOwned)).toBe(true);
    expect(mayRevokeMaterialOf(op('owner', 'p-bob', ['t-2']), teamOwned)).toBe(false);
    // Membership of the principal's own teams is not ownership.
    expect(mayIssueMaterialTo(op('owner', 'p-bob', ['t-3']), principal({ teamIds: ['t-3'] }))).toBe(false);
    // No owner at all never matches an owner-role operator.
    expect(mayReadMaterialOf(op('owner', 'p-bob'), principal({ ownerId: null, ownerTeamId: undefined }))).toBe(false);
  });

  it('a caller without a role reads and revokes only its own, and adds nothing', () => {
    expect([mayReadMaterialOf(roleless('p-agent'), principal()), mayRevokeMaterialOf(roleless('p-agent'), principal()), mayIssueMaterialTo(roleless('p-agent'), principal())])
      .toEqual([true, true, false]);
    expect([mayReadMaterialOf(roleless('p-other'), principal()), mayRevokeMaterialOf(roleless('p-other'), principal())]).toEqual([false, false]);
  });
});

describe('who may hold material', () => {
  const code = (p: CredentialPrincipal) => {
    try {
      assertMayHoldMaterial(p, 'client keys');
      return 'ok';
    } catch (error) {
      return (error as AppError).code;
    }
  };
  it('active non-human principals only', () => {
    expect(code(principal())).toBe('ok');
    expect(code(principal({ kind: 'service_account' }))).toBe('ok');
    expect(code(principal({ kind: 'human', ownerId: null }))).toBe('principal_cannot_hold_credentials');
    for (const status of ['proposed', 'suspended', 'decommissioned']) expect(code(principal({ status }))).toBe('principal_cannot_hold_credentials');
  });
});

describe('usageThrottle', () => {
  it('is due once a minute per credential, and again after a forget', () => {
    const clock = manualClock('2026-05-01T00:00:00.000Z');
    const t = usageThrottle(clock);
    expect(t.due('a')).toEqual({ now: new Date('2026-05-01T00:00:00.000Z'), cutoff: new Date('2026-04-30T23:59:00.000Z') });
    expect(t.due('b')).toBeDefined();
    clock.advance(59_999);
    expect(t.due('a')).toBeUndefined();
    t.forget('b');
    expect(t.due('b')).toBeDefined();
    clock.advance(1);
    expect(t.due('a')).toBeDefined();
  });
  it('stays bounded: when full it forgets everything rather than grow', () => {
    const t = usageThrottle(manualClock(), 2);
    t.due('a');
    t.due('b');
    t.due('c');
    expect(t.due('a')).toBeDefined();
  });
});

describe('createClientMaterial', () => {
  it('sends markUsed to the service whose id shape matches, and nothing for other ids', async () => {
    const marked: string[] = [];
    const m = createClientMaterial({
      keys: { activeKeys: async () => [], markUsed: async (id) => { marked.push(`key:${id}`); } },
      secrets: { checkClientSecret: async () => 'abc', markUsed: async (id) => { marked.push(`secret:${id}`); } },
    });
    await m.markUsed('0190f5a2-7c3b-7def-8abc-0123456789ab');
    await m.markUsed('abcdefghijklmnop');
    await m.markUsed('Robert; drop table');
    expect(marked).toEqual(['key:0190f5a2-7c3b-7def-8abc-0123456789ab', 'secret:abcdefghijklmnop']);
    expect(await m.checkClientSecret('p', 's')).toBe('abc');
  });
});
