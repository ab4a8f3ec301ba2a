import { describe, expect, it } from 'vitest';
import { policySetJson } from './cedar.js';
import { pruneContext, pruneEntity, usageOf } from './usage.js';

const usage = (text: string) => usageOf(policySetJson({ staticPolicies: text }));

describe('what a policy set reads', () => {
  it('collects attribute names from accesses and has, on any variable, nested ones included', () => {
    const u = usage('permit (principal, action, resource) when { principal.team == resource.owner_team && context has device && context.device.posture == "compliant" };');
    expect([...u.attributes].sort()).toEqual(['device', 'owner_team', 'posture', 'team']);
    expect(u.tags).toEqual(new Set());
  });

  it('collects literal tag keys, and every tag when a key is computed', () => {
    expect(usage('permit (principal, action, resource) when { principal.hasTag("env") && principal.getTag("env") == "prod" };').tags).toEqual(new Set(['env']));
    expect(usage('permit (principal, action, resource) when { resource.hasTag(principal.name) };').tags).toBe('all');
  });

  it('trims entities to what is read, keeping uid and parents; context members are kept whole', () => {
    const u = usage('permit (principal, action, resource) when { principal.name == "a" && principal.getTag("env") == "x" && context.auth.dpop_bound };');
    const entity = { uid: { type: 'Custos::Agent', id: 'a' }, attrs: { name: 'a', kind: 'agent', purposes: ['x'] }, parents: [{ type: 'Custos::Team', id: 't' }], tags: { env: 'x', other: 'y' } };
    expect(pruneEntity(entity, u)).toEqual({ uid: entity.uid, attrs: { name: 'a' }, parents: entity.parents, tags: { env: 'x' } });
    expect(pruneContext({ auth: { dpop_bound: true, method: 'x' }, purpose: 'p' }, u)).toEqual({ auth: { dpop_bound: true, method: 'x' } });
  });
});
