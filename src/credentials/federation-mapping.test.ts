import { describe, expect, it } from 'vitest';
import { conditionHolds, mappingMatches, resolveClaim, resolveMappings, type ClaimMapping } from './federation-mapping.js';

const github = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:org/app:ref:refs/heads/main',
  repository: 'org/app',
  ref: 'refs/heads/main',
  environment: 'production',
  run_attempt: '1',
  run_number: 7,
  private: true,
};

const kubernetes = {
  iss: 'https://kubernetes.default.svc',
  sub: 'system:serviceaccount:ci:deployer',
  'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'deployer', uid: 'b1' }, pod: { name: 'runner-1' } },
};

describe('resolveClaim', () => {
  it('finds top-level claims and dotted paths into nested objects, including keys that contain dots', () => {
    expect(resolveClaim(github, 'repository')).toEqual(['org/app']);
    expect(resolveClaim(kubernetes, 'kubernetes.io.namespace')).toEqual(['ci']);
    expect(resolveClaim(kubernetes, 'kubernetes.io.serviceaccount.name')).toEqual(['deployer']);
    expect(resolveClaim(kubernetes, 'kubernetes.io')).toEqual([kubernetes['kubernetes.io']]);
  });
  it('returns every reading when a name can be split more than one way', () => {
    const twoWays = { 'a.b': 'flat', a: { b: 'nested' } };
    expect(resolveClaim(twoWays, 'a.b').sort()).toEqual(['flat', 'nested']);
  });
  it('never follows prototypes, arrays or non-objects, and finds nothing for absent names', () => {
    expect(resolveClaim(github, 'toString')).toEqual([]);
    expect(resolveClaim(github, 'constructor.name')).toEqual([]);
    expect(resolveClaim({ list: [{ x: 'y' }] }, 'list.0.x')).toEqual([]);
    expect(resolveClaim(github, 'ref.length')).toEqual([]);
    expect(resolveClaim(github, 'missing')).toEqual([]);
    expect(resolveClaim(github, '')).toEqual([]);
    expect(resolveClaim(null, 'x')).toEqual([]);
    expect(resolveClaim(JSON.parse('{"__proto__": {"admin": "yes"}}'), '__proto__.admin')).toEqual(['yes']);
    expect(resolveClaim({}, '__proto__.admin')).toEqual([]);
  });
});

describe('conditionHolds', () => {
  it('matches an exact string, or one string of a list', () => {
    expect(conditionHolds(github, 'ref', 'refs/heads/main')).toBe(true);
    expect(conditionHolds(github, 'ref', ['refs/heads/release', 'refs/heads/main'])).toBe(true);
    expect(conditionHolds(github, 'ref', ['refs/heads/release'])).toBe(false);
  });
  it('is exact: no prefix, suffix, case folding or wildcard', () => {
    expect(conditionHolds(github, 'ref', 'refs/heads/mai')).toBe(false);
    expect(conditionHolds(github, 'ref', 'refs/heads/main ')).toBe(false);
    expect(conditionHolds(github, 'repository', 'ORG/APP')).toBe(false);
    expect(conditionHolds(github, 'repository', 'org/*')).toBe(false);
    expect(conditionHolds({ ref: 'refs/heads/main-old' }, 'ref', 'refs/heads/main')).toBe(false);
  });
  it('never matches a non-string value, an absent claim or an empty list', () => {
    expect(conditionHolds(github, 'run_number', '7')).toBe(false);
    expect(conditionHolds(github, 'private', 'true')).toBe(false);
    expect(conditionHolds({ groups: ['a'] }, 'groups', 'a')).toBe(false);
    expect(conditionHolds({ x: null }, 'x', 'null')).toBe(false);
    expect(conditionHolds(github, 'environment_url', 'x')).toBe(false);
    expect(conditionHolds(github, 'ref', [])).toBe(false);
  });
  it('holds for a name read two ways only when both readings are accepted', () => {
    const twoWays = { 'a.b': 'flat', a: { b: 'nested' } };
    expect(conditionHolds(twoWays, 'a.b', 'flat')).toBe(false);
    expect(conditionHolds(twoWays, 'a.b', ['flat', 'nested'])).toBe(true);
  });
});

describe('mappingMatches', () => {
  it('needs every condition (AND) and at least one', () => {
    expect(mappingMatches(github, { claims: { repository: 'org/app', ref: 'refs/heads/main', environment: 'production' } })).toBe(true);
    expect(mappingMatches(github, { claims: { repository: 'org/app', ref: 'refs/heads/dev' } })).toBe(false);
    expect(mappingMatches(github, { claims: {} })).toBe(false);
    expect(mappingMatches(kubernetes, { claims: { 'kubernetes.io.namespace': 'ci', 'kubernetes.io.serviceaccount.name': 'deployer' } })).toBe(true);
    expect(mappingMatches(kubernetes, { claims: { 'kubernetes.io.namespace': 'ci', 'kubernetes.io.serviceaccount.name': 'builder' } })).toBe(false);
  });
});

describe('resolveMappings', () => {
  const deployer: ClaimMapping = { principalId: 'p-deployer', claims: { repository: 'org/app', ref: 'refs/heads/main' } };
  const deployerEnv: ClaimMapping = { principalId: 'p-deployer', claims: { environment: 'production' } };
  const tester: ClaimMapping = { principalId: 'p-tester', claims: { repository: 'org/app' } };
  it('maps to the one principal whose mappings match', () => {
    expect(resolveMappings(github, [deployer])).toEqual({ outcome: 'matched', principalId: 'p-deployer', mappings: 1 });
    expect(resolveMappings(github, [deployer, deployerEnv])).toEqual({ outcome: 'matched', principalId: 'p-deployer', mappings: 2 });
    expect(resolveMappings({ ...github, ref: 'refs/heads/dev' }, [deployer, tester])).toEqual({ outcome: 'matched', principalId: 'p-tester', mappings: 1 });
  });
  it('says none when nothing matches, and ambiguous when two principals do', () => {
    expect(resolveMappings({ ...github, repository: 'org/other' }, [deployer, tester])).toEqual({ outcome: 'none' });
    expect(resolveMappings(github, [])).toEqual({ outcome: 'none' });
    expect(resolveMappings(github, [deployer, tester])).toEqual({ outcome: 'ambiguous', principalIds: ['p-deployer', 'p-tester'] });
  });
});
