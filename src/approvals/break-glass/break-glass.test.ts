import { describe, expect, it } from 'vitest';
import { credentialActor, NO_PROVENANCE, operatorActor, systemActor, type Actor } from '../../platform/actor.js';
import type { GroupMembers } from '../groups.js';
import {
  breakGlassDuration, breakGlassExpiry, mayEnd, membershipRefusal, recipientIds, reviewRefusal, skippedApprovers, userRefusal,
} from './break-glass.js';

// The break-glass rules, exactly: who may open it, for how long, who is told, who may close the review.

const person = (id: string, kind = 'human') => ({ id, name: id, kind, status: 'active', ownerId: null });
const operator = (id: string, role: 'admin' | 'security' | 'auditor' | 'owner' = 'owner'): Actor =>
  operatorActor({ principal: person(id), credentialId: `tok-${id}`, role, teamIds: [], provenance: NO_PROVENANCE });
const tokenActor = (id: string, over: Partial<Parameters<typeof credentialActor>[0]> = {}, kind = 'human'): Actor => credentialActor({
  principal: person(id, kind), credential: { id: `jti-${id}`, kind: 'access_token' }, authMethod: 'operator_token', teamIds: [], scope: [], purpose: null,
  audience: ['https://custos.example'], binding: null, delegationChain: [], provenance: NO_PROVENANCE, role: 'owner', ...over,
});

describe('who opens break-glass access', () => {
  it('a person acting directly, with an operator token or a signed-in access token', () => {
    expect(userRefusal(operator('olga'))).toBeNull();
    expect(userRefusal(operator('root', 'admin'))).toBeNull(); // the role is not refused here; membership decides
    expect(userRefusal(tokenActor('olga'))).toBeNull();
  });

  it('never an agent, a service account, a delegated token, an API key or the system', () => {
    expect(userRefusal(tokenActor('bot', { role: null }, 'agent'))).toMatch(/agent never opens/);
    expect(userRefusal(tokenActor('ci', { role: null }, 'service_account'))).toMatch(/service_account never opens/);
    expect(userRefusal(tokenActor('olga', { delegationChain: [{ principalId: 'olga', principalName: 'olga' }] }))).toMatch(/delegated token/);
    expect(userRefusal(tokenActor('olga', { credential: { id: 'ak', kind: 'api_key' } }))).toMatch(/API key/);
    expect(userRefusal(systemActor())).toMatch(/by a person/);
  });

  it('an active member of the configured team; no team means nobody', () => {
    expect(membershipRefusal('break-glass', { members: ['olga', 'adam'] }, 'olga')).toBeNull();
    expect(membershipRefusal('break-glass', { members: ['adam'] }, 'olga')).toMatch(/only active members of the team 'break-glass'/);
    expect(membershipRefusal('break-glass', { members: [] }, 'olga')).not.toBeNull();
    expect(membershipRefusal('on-call', undefined, 'olga')).toMatch(/no team named 'on-call'/);
  });
});

describe('how long', () => {
  it('the maximum when none is asked; up to the maximum; never beyond', () => {
    expect(breakGlassDuration(undefined, 3600)).toBe(3600);
    expect(breakGlassDuration(60, 3600)).toBe(60);
    expect(breakGlassDuration(3600, 3600)).toBe(3600);
    expect(breakGlassDuration(3601, 3600)).toBeNull();
    expect(breakGlassDuration(1800, 900)).toBeNull();
  });

  it('ends at a whole second, never before the asked duration and less than a second after', () => {
    expect(breakGlassExpiry(new Date('2026-03-01T10:00:00.000Z'), 60).toISOString()).toBe('2026-03-01T10:01:00.000Z');
    expect(breakGlassExpiry(new Date('2026-03-01T10:00:00.001Z'), 60).toISOString()).toBe('2026-03-01T10:01:01.000Z');
    expect(breakGlassExpiry(new Date('2026-03-01T10:00:00.999Z'), 3600).toISOString()).toBe('2026-03-01T11:00:01.000Z');
  });
});

describe('who is told', () => {
  const members: GroupMembers = new Map<string, ReadonlySet<string> | 'anyone'>([
    ['anyone', 'anyone'], ['security', new Set(['sam', 'sue'])], ['resource_owners', new Set(['rita', 'olga'])], ['team:ml', new Set(['mo'])],
  ]) as GroupMembers;

  it('slot by slot, the people who would have approved; anyone stays a group; the user is left out', () => {
    expect(skippedApprovers({ slots: ['resource_owners'] }, members, 'olga')).toEqual([{ group: 'resource_owners', people: ['rita'] }]);
    expect(skippedApprovers({ slots: ['anyone', 'security'] }, members, 'olga')).toEqual([{ group: 'anyone', people: 'anyone' }, { group: 'security', people: ['sam', 'sue'] }]);
    expect(skippedApprovers({ slots: [] }, members, 'olga')).toEqual([]);
    expect(skippedApprovers({ slots: ['team:ml'] }, members, 'mo')).toEqual([{ group: 'team:ml', people: [] }]);
  });

  it('security and every named skipped approver, each once, never the user', () => {
    const skipped = skippedApprovers({ slots: ['anyone', 'security', 'resource_owners'] }, members, 'olga');
    expect(recipientIds(members.get('security'), skipped, 'olga')).toEqual(['rita', 'sam', 'sue']);
    expect(recipientIds(members.get('security'), skipped, 'sam')).toEqual(['rita', 'sue']);
    expect(recipientIds(new Set<string>(), [], 'olga')).toEqual([]); // no security team: nobody named (the audit event still records it)
    expect(recipientIds(undefined, [{ group: 'anyone', people: 'anyone' }], 'olga')).toEqual([]);
  });
});

describe('the review', () => {
  it('never closed by the user, whatever their role, nor through a token delegated by them', () => {
    expect(reviewRefusal(operator('olga', 'admin'), 'olga')).toMatchObject({ code: 'self_review' });
    expect(reviewRefusal(operator('olga', 'security'), 'olga')).toMatchObject({ code: 'self_review' });
    expect(reviewRefusal(tokenActor('bot', { delegationChain: [{ principalId: 'olga', principalName: 'olga' }] }, 'agent'), 'olga')).toMatchObject({ code: 'self_review' });
  });

  it('closed by another person acting directly', () => {
    expect(reviewRefusal(operator('sam', 'security'), 'olga')).toBeNull();
    expect(reviewRefusal(tokenActor('sam', { role: 'security' }), 'olga')).toBeNull();
    expect(reviewRefusal(tokenActor('bot', { delegationChain: [{ principalId: 'sam', principalName: 'sam' }] }, 'agent'), 'olga')).toMatchObject({ code: 'forbidden' });
    expect(reviewRefusal(systemActor(), 'olga')).toMatchObject({ code: 'forbidden' });
  });

  it('the access is ended early by its user, or by admin or security', () => {
    expect(mayEnd(operator('olga'), 'olga')).toBe(true);
    expect(mayEnd(operator('owen'), 'olga')).toBe(false);
    expect(mayEnd(operator('sam', 'security'), 'olga')).toBe(true);
    expect(mayEnd(operator('root', 'admin'), 'olga')).toBe(true);
    expect(mayEnd(operator('ann', 'auditor'), 'olga')).toBe(false);
  });
});
