import { describe, expect, it } from 'vitest';
import { anonymousActor, NO_PROVENANCE, OPERATOR_ROLES, operatorActor, type Actor, type OperatorRole } from '../platform/actor.js';
import { PERMISSIONS, ROLE_PERMISSIONS, authorize, canGrantRole } from './roles.js';

const actor = (role: OperatorRole | null): Actor => role === null
  ? anonymousActor('operator_token', NO_PROVENANCE)
  : operatorActor({ principal: { id: 'p', name: 'p', kind: 'human', status: 'active', ownerId: null }, credentialId: 'c', role, teamIds: [], provenance: NO_PROVENANCE });
const WRITES = PERMISSIONS.filter((p) => !/\.read$|^audit\.verify$/.test(p));

describe('role table', () => {
  it('admin holds every permission; every other role a strict subset of it', () => {
    for (const p of PERMISSIONS) expect(authorize(actor('admin'), p)).toBe(true);
    for (const role of OPERATOR_ROLES.filter((r) => r !== 'admin')) {
      expect(ROLE_PERMISSIONS[role].size).toBeLessThan(PERMISSIONS.length);
    }
  });
  it('auditors hold no write permission at all', () => {
    for (const p of WRITES) expect(authorize(actor('auditor'), p), p).toBe(false);
    expect(authorize(actor('auditor'), 'audit.read')).toBe(true);
  });
  it('only admins mint tokens, and only admins grant any role', () => {
    for (const role of OPERATOR_ROLES) {
      expect(authorize(actor(role), 'token.create')).toBe(role === 'admin');
      for (const granted of OPERATOR_ROLES) expect(canGrantRole(role, granted)).toBe(role === 'admin');
    }
    expect(canGrantRole(null, 'auditor')).toBe(false);
  });
  it('owners manage principals and resources but no teams, tokens, audit administration or findings', () => {
    for (const p of ['team.write', 'token.read', 'token.create', 'token.revoke', 'audit.admin', 'audit.read', 'finding.write']) {
      expect(authorize(actor('owner'), p), p).toBe(false);
    }
  });
  it('unknown permissions and role-less actors are refused', () => {
    expect(authorize(actor('admin'), 'made.up')).toBe(false);
    expect(authorize(actor(null), 'self.read')).toBe(false);
  });
});
