import { describe, expect, it } from 'vitest';
import { NO_PROVENANCE } from '../../platform/actor.js';
import type { AccessTokenClaims } from '../contracts.js';
import { accessTokenActor } from './actor.js';
import type { PrincipalRecord } from './context.js';

// The Actor of an access token, exactly: RFC 8693 §4.1 delegation (principal = current actor; chain = the
// subject and the prior actors, outermost first), scope, purpose, audience, binding, credential, auth method.

const record = (id: string, teams: string[] = []): PrincipalRecord => ({ principal: { id, name: id.toUpperCase(), kind: 'agent', status: 'active', ownerId: 'owner' }, teamIds: teams });
const principals = new Map(['a', 'b', 'c', 'd'].map((id) => [id, record(id, [`team-${id}`])]));
const base: AccessTokenClaims = {
  iss: 'https://custos.test', sub: 'a', aud: 'https://api.test/', client_id: 'a', scope: 'model:invoke  data:read', jti: 'j-1',
  iat: 1_800_000_000, exp: 1_800_000_600, auth_time: 1_800_000_000,
};

describe('accessTokenActor', () => {
  it('a direct token: the subject acts, no chain', () => {
    expect(accessTokenActor({ claims: base, actChain: [], principals, provenance: NO_PROVENANCE })).toEqual({
      principal: record('a').principal, credential: { id: 'j-1', kind: 'access_token', issuedAt: '2027-01-15T08:00:00.000Z', expiresAt: '2027-01-15T08:10:00.000Z' },
      authMethod: 'private_key_jwt', role: null, teamIds: ['team-a'], scope: ['model:invoke', 'data:read'], purpose: null,
      audience: ['https://api.test/'], binding: null, delegationChain: [], provenance: NO_PROVENANCE, label: null,
    });
  });

  it('a delegated token: sub=A, act={C, act:{B}} is C acting for [A, B]; three hops give [A, B, C]', () => {
    const two = accessTokenActor({
      claims: { ...base, act: { sub: 'c', act: { sub: 'b' } }, purpose: 'triage', cnf: { jkt: 'thumb' }, amr: ['api_key'] },
      actChain: ['c', 'b'], principals, provenance: NO_PROVENANCE,
    });
    expect(two.principal?.id).toBe('c');
    expect(two.teamIds).toEqual(['team-c']);
    expect(two.delegationChain).toEqual([{ principalId: 'a', principalName: 'A' }, { principalId: 'b', principalName: 'B' }]);
    expect([two.purpose, two.binding, two.authMethod]).toEqual(['triage', { method: 'dpop', thumbprint: 'thumb' }, 'api_key']);
    const three = accessTokenActor({ claims: { ...base, act: { sub: 'd', act: { sub: 'c', act: { sub: 'b' } } } }, actChain: ['d', 'c', 'b'], principals, provenance: NO_PROVENANCE });
    expect([three.principal?.id, three.delegationChain.map((l) => l.principalId)]).toEqual(['d', ['a', 'b', 'c']]);
  });

  it('takes the auth method from amr[0] only when it is one of ours', () => {
    const method = (amr?: string[]) => accessTokenActor({ claims: { ...base, amr }, actChain: [], principals, provenance: NO_PROVENANCE }).authMethod;
    expect([method(['client_secret']), method(['federated', 'x']), method(['x', 'federated']), method(['system']), method(undefined)])
      .toEqual(['client_secret', 'federated', 'private_key_jwt', 'private_key_jwt', 'private_key_jwt']);
  });

  it('a person\'s role (RFC 9068 roles) only on an undelegated, single-audience token of a human, and only an operator role', () => {
    const people = new Map([...principals, ['p', { principal: { id: 'p', name: 'P', kind: 'human', status: 'active', ownerId: null }, teamIds: [] }]]);
    const role = (claims: Partial<AccessTokenClaims>, actChain: string[] = []) => accessTokenActor({ claims: { ...base, sub: 'p', ...claims }, actChain, principals: people, provenance: NO_PROVENANCE }).role;
    expect(role({ roles: ['admin'] })).toBe('admin');
    expect(role({ roles: ['admin'], aud: ['https://api.test/'] })).toBe('admin');
    expect(role({ roles: ['admin'], aud: ['https://api.test/', 'https://mcp.test/'] })).toBeNull();
    expect(role({ roles: ['admin'], act: { sub: 'a' } }, ['a'])).toBeNull();
    expect(role({ roles: ['root'] })).toBeNull();
    expect(role({})).toBeNull();
    // An agent's token never carries a role, whatever it says.
    expect(accessTokenActor({ claims: { ...base, roles: ['admin'] }, actChain: [], principals, provenance: NO_PROVENANCE }).role).toBeNull();
  });
});
