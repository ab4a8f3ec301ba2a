import { describe, expect, it } from 'vitest';
import { caseContext, caseRequest, DEFAULT_TIME, parseTestCases, TestCasesError } from './test-cases.js';
import { diffPolicies } from './diff.js';
import { policyProblems } from './validation.js';

const problemsOf = (text: string) => {
  try {
    parseTestCases(text);
    return [];
  } catch (error) {
    if (error instanceof TestCasesError) return error.problems;
    throw error;
  }
};

describe('test cases', () => {
  it('accepts a list or a map with cases, and fills the documented defaults', () => {
    const list = parseTestCases('- {name: a, principal: p, action: read, resource: r, expect: deny}\n');
    expect(parseTestCases('cases:\n  - {name: a, principal: p, action: read, resource: r, expect: deny}\n')).toEqual(list);
    expect(parseTestCases('')).toEqual([]);
    const r = caseRequest(list[0]!);
    expect(r).toMatchObject({ principal: 'p', action: 'read', resource: { kind: 'registry', ref: 'r' }, requestId: null });
    expect(r.facts).toMatchObject({ purpose: null, delegationChain: [], authMethod: 'private_key_jwt', credentialKind: 'access_token', dpopBound: false, via: 'direct' });
    const ctx = caseContext(list[0]!, 'agent', []);
    expect(ctx).toMatchObject({
      purpose: '', delegation: { depth: 0, chain: [] }, auth: { method: 'private_key_jwt', dpop_bound: false, token_age_seconds: 0 },
      provenance: { zone: '', via: 'direct', attested: false }, device: { posture: 'unknown', source: 'none' },
      time: { epoch_seconds: DEFAULT_TIME.getTime() / 1000, hour: 12, weekday: 'mon' }, risk: { score: 0 },
    });
  });

  it('builds the context a case states: time, posture, delegation, attestation only for federated non-humans', () => {
    const [c] = parseTestCases(`- name: x
  principal: p
  action: deploy
  resource: {type: model, id: m}
  purpose: ops
  context: {auth_method: federated, posture: compliant, delegation: [a, b], time: {weekday: sat, hour: 3}, token_age_seconds: 30, risk: 40}
  expect: allow
`);
    expect(caseRequest(c!).resource).toEqual({ kind: 'registry', ref: 'm', resourceKind: 'model' });
    const ctx = caseContext(c!, 'workload', ['a', 'b']) as any;
    expect(ctx.delegation).toEqual({ depth: 2, chain: ['a', 'b'] });
    expect(ctx.provenance.attested).toBe(true);
    expect(caseContext(c!, 'human', ['a', 'b']) as any).toMatchObject({ provenance: { attested: false } });
    expect(ctx).toMatchObject({ purpose: 'ops', device: { posture: 'compliant' }, time: { weekday: 'sat', hour: 3 }, auth: { token_age_seconds: 30, method: 'federated' }, risk: { score: 40 } });
    const [app] = parseTestCases('- {name: y, principal: p, action: read, resource: {type: todo, id: "7"}, expect: deny}\n- {name: z, principal: p, action: read, resource: {type: api}, expect: deny}\n');
    expect(caseRequest(app!).resource).toEqual({ kind: 'app', type: 'todo', id: '7' });
  });

  it('reports problems with lines: syntax, duplicate keys, unknown fields, bad values, duplicate names, missing ids', () => {
    expect(problemsOf('- name: [\n')[0]).toMatchObject({ line: expect.any(Number) });
    expect(problemsOf('- name: a\n  name: b\n')[0]).toMatchObject({ line: 2, column: 3 });
    expect(problemsOf('- {name: a, principal: p, action: read, resource: r, expect: deny, purpse: x}\n')[0]!.message).toMatch(/purpse/);
    expect(problemsOf('- name: a\n  principal: p\n  action: read\n  resource: r\n  expect: yes\n')[0]).toMatchObject({ line: 5, case: 'a' });
    expect(problemsOf('- {name: a, principal: p, action: read, resource: r, expect: deny}\n- {name: a, principal: p, action: read, resource: r, expect: deny}\n')[0]!.message).toMatch(/two test cases are named 'a'/);
    expect(problemsOf('- {name: a, principal: p, action: read, resource: {type: dataset}, expect: deny}\n')[0]!.message).toMatch(/needs an id/);
    expect(problemsOf('just text\n')[0]!.message).toMatch(/expected a list/);
  });
});

describe('policy text', () => {
  it('names problems by @id, once per place, without Cedar\'s positional prefix', () => {
    const p = policyProblems('@id("a") permit (principal, action, resource);\n@id("b") permit (principal, action, resource) when { resource.nope };\n');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ policy: 'b', line: 2 });
    expect(p[0]!.message).not.toMatch(/for policy/);
    expect(p[0]!.message).toMatch(/and \d+ more like it/);
  });

  it('diffs by id, ignoring layout', () => {
    const a = '@id("x") permit (principal, action, resource);\n@id("y") forbid (principal, action, resource) when { principal.status == "a" };';
    const b = '@id("x")\npermit (\n  principal,\n  action,\n  resource\n);\n@id("z") forbid (principal, action, resource);';
    expect(diffPolicies(a, b)).toEqual({ added: ['z'], removed: ['y'], changed: [], unchanged: ['x'] });
    expect(diffPolicies(a, a.replace('"a"', '"b"')).changed).toEqual(['y']);
  });
});
