import { describe, expect, it } from 'vitest';
import { actingOf, answerOf, assertedOf, principalKindOf, resourceTargetOf, stableJson, tokenFacts, withDefaults } from './mapping.js';
import { encodePageToken, pagePosition, searchDigest } from './page-token.js';

describe('AuthZEN mapping', () => {
  it('subject types are principal kinds, "user" meaning human', () => {
    expect(principalKindOf('user')).toBe('human');
    expect(principalKindOf('service_account')).toBe('service_account');
    expect(principalKindOf('group')).toBeNull();
  });

  it('resource types: registry kinds, the Custos API, and application objects', () => {
    expect(resourceTargetOf({ type: 'model', id: 'gpt' })).toEqual({ kind: 'registry', ref: 'gpt', resourceKind: 'model' });
    expect(resourceTargetOf({ type: 'custos_api', id: 'custos' })).toEqual({ kind: 'api' });
    expect(resourceTargetOf({ type: 'todo', id: '7' })).toEqual({ kind: 'app', type: 'todo', id: '7' });
  });

  it('properties and context are asserted, a subject token never is', () => {
    expect(assertedOf({ subject: { token: 'eyJ…', dept: 'sales' }, resource: { ownerID: 'x' }, context: { t: 1 }, actionProperties: { method: 'GET' } }))
      .toEqual({ subject: { dept: 'sales' }, resource: { ownerID: 'x' }, context: { t: 1, 'action.properties': { method: 'GET' } } });
    expect(assertedOf({ subject: { token: 'eyJ…' } })).toBeUndefined();
    expect(assertedOf({})).toBeUndefined();
  });

  it('a delegated token acts as its outermost act.sub, the rest of the chain outermost first (RFC 8693 §4.1)', () => {
    expect(actingOf({ sub: 'A' })).toEqual({ principal: 'A', chain: [] });
    expect(actingOf({ sub: 'A', act: { sub: 'B' } })).toEqual({ principal: 'B', chain: ['A'] });
    expect(actingOf({ sub: 'A', act: { sub: 'C', act: { sub: 'B' } } })).toEqual({ principal: 'C', chain: ['A', 'B'] });
  });

  it('facts come from the verified token: purpose, chain, binding, age, method', () => {
    const claims = { iss: 'i', sub: 'A', aud: 'x', client_id: 'A', scope: '', jti: 'j', iat: 1_700_000_000, exp: 1_700_000_900, auth_time: 1_700_000_000,
      purpose: 'support', cnf: { jkt: 'thumb' }, act: { sub: 'B' }, amr: ['federated'] };
    expect(tokenFacts(claims)).toEqual({
      purpose: 'support', delegationChain: ['A'], authMethod: 'federated', credentialKind: 'access_token', dpopBound: true,
      issuedAt: new Date(1_700_000_000_000), sourceIp: null, via: 'direct', workloadId: null,
    });
    expect(tokenFacts({ ...claims, amr: ['system'], cnf: undefined, purpose: undefined })).toMatchObject({ authMethod: 'private_key_jwt', dpopBound: false, purpose: null });
  });

  it('batch defaults fill only what an item leaves out', () => {
    expect(withDefaults({ action: { name: 'b' } }, { subject: { type: 'user', id: 'a' }, action: { name: 'a' }, resource: undefined }))
      .toEqual({ subject: { type: 'user', id: 'a' }, action: { name: 'b' } });
  });

  it('an allow is bare; a deny says why to admins, little to users, and carries a refusal\'s status', () => {
    expect(answerOf({ decision: 'allow', reasons: [{ kind: 'permit', policy: 'p', principal: 'a' }], auditEventId: 'e1' }, true)).toEqual({ decision: true });
    expect(answerOf({ decision: 'deny', reasons: [{ kind: 'forbid', policy: 'f', principal: 'a' }, { kind: 'no_permit', principal: 'b' }], auditEventId: 'e2' }, true))
      .toEqual({ decision: false, context: { id: 'e2', reason_admin: { 403: 'forbidden by f for a; no policy permits b' }, reason_user: { 403: 'Access denied.' } } });
    // A refusal keys its reasons by its own status, never 403 beside a 404 error.
    const unknownSubject = { decision: 'deny' as const, reasons: [{ kind: 'refused' as const, code: 'unknown_principal' as const, message: "no principal of type 'user' is named 'zed'" }], auditEventId: 'e3' };
    expect(answerOf(unknownSubject, true)).toEqual({ decision: false, context: {
      id: 'e3', reason_admin: { 404: "unknown_principal: no principal of type 'user' is named 'zed'" }, reason_user: { 404: 'Not found.' },
      error: { status: 404, message: "no principal of type 'user' is named 'zed'" },
    } });
    expect(answerOf({ ...unknownSubject, reasons: [{ kind: 'refused', code: 'invalid_request', message: 'bad token' }] }, false))
      .toEqual({ decision: false, context: { id: 'e3', reason_user: { 400: 'Bad request.' }, error: { status: 400, message: 'bad token' } } });
  });

  it('a principal asking about itself cannot tell a missing registry resource from a denied one', () => {
    const denied = answerOf({ decision: 'deny', reasons: [{ kind: 'no_permit', principal: 'a' }], auditEventId: 'e1' }, false);
    for (const code of ['unknown_resource', 'ambiguous_resource'] as const) {
      const missing = answerOf({ decision: 'deny', reasons: [{ kind: 'refused', code, message: 'no such resource' }], auditEventId: 'e1' }, false);
      expect(missing).toEqual(denied);
      // Operators and evaluators still see the refusal.
      expect(answerOf({ decision: 'deny', reasons: [{ kind: 'refused', code, message: 'no such resource' }], auditEventId: 'e1' }, true).context!.error)
        .toMatchObject({ message: 'no such resource' });
    }
    expect(denied).toEqual({ decision: false, context: { id: 'e1', reason_user: { 403: 'Access denied.' } } });
  });

  it('stable JSON ignores key order and undefined members', () => {
    expect(stableJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } })).toBe('{"a":{"d":[1,{"e":3,"f":2}]},"b":1}');
  });
});

describe('search page tokens', () => {
  const search = { subject: { type: 'user' }, action: { name: 'read' }, resource: { type: 'doc', id: '1' } };

  it('bind to the search (not to its page member, not to key order)', () => {
    const d = searchDigest('subject', search);
    expect(searchDigest('subject', { resource: search.resource, action: search.action, subject: search.subject, page: { limit: 3 } })).toBe(d);
    expect(searchDigest('resource', search)).not.toBe(d);
    expect(searchDigest('subject', { ...search, context: { x: 1 } })).not.toBe(d);
  });

  it('carry the offset and the limit; another search, a changed limit or a forged token is invalid_cursor', () => {
    const d = searchDigest('subject', search);
    expect(pagePosition(d, undefined)).toEqual({ offset: 0, limit: 50 });
    expect(pagePosition(d, { limit: 7 })).toEqual({ offset: 0, limit: 7 });
    const token = encodePageToken(d, { offset: 14, limit: 7 });
    expect(pagePosition(d, { token })).toEqual({ offset: 14, limit: 7 });
    expect(pagePosition(d, { token, limit: 7 })).toEqual({ offset: 14, limit: 7 });
    expect(() => pagePosition(d, { token, limit: 8 })).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
    expect(() => pagePosition(searchDigest('subject', { ...search, action: { name: 'write' } }), { token })).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
    // Forged: one character changed for a different one, in the middle and in the last fully significant place (the
    // very last base64url character may carry padding bits a decoder ignores).
    const forge = (i: number) => `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
    for (const i of [Math.floor(token.length / 2), token.length - 2]) {
      expect(forge(i)).not.toBe(token);
      expect(() => pagePosition(d, { token: forge(i) })).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
    }
  });
});
