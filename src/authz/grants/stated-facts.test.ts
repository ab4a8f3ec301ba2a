import { describe, expect, it } from 'vitest';
import { NO_FACTS } from '../contracts.js';
import { describeStatement, factsFromStatement } from './stated-facts.js';

const now = new Date('2026-03-01T12:00:00Z');

describe('factsFromStatement', () => {
  it('nothing stated is no special facts at all', () => {
    expect(factsFromStatement({}, now)).toEqual(NO_FACTS);
  });

  it('maps each statement, the token age to an issue time', () => {
    expect(factsFromStatement({
      purpose: 'support', dpopBound: true, sourceIp: '10.0.0.7', via: 'gateway', authMethod: 'private_key_jwt', credential: 'access_token',
      workloadId: 'spiffe://example.org/ci', delegationChain: ['p1'], tokenAgeSeconds: 30, deviceId: 'mac-1', postureAssertion: 'x.y.z', risk: 40,
    }, now)).toEqual({
      purpose: 'support', dpopBound: true, sourceIp: '10.0.0.7', via: 'gateway', authMethod: 'private_key_jwt', credentialKind: 'access_token',
      workloadId: 'spiffe://example.org/ci', delegationChain: ['p1'], issuedAt: new Date('2026-03-01T11:59:30Z'),
      device: { deviceId: 'mac-1', assertion: 'x.y.z' }, risk: 40,
    });
  });
});

describe('the credential a stated method implies (as policy test cases derive it)', () => {
  it('operator (alias operator_token) → operator_token, api_key → api_key, none → none, others → access_token; a stated credential wins', () => {
    const of = (authMethod: Parameters<typeof factsFromStatement>[0]['authMethod'], credential?: 'api_key') => {
      const f = factsFromStatement({ authMethod, ...(credential ? { credential } : {}) }, now);
      return [f.authMethod, f.credentialKind];
    };
    expect(of('operator')).toEqual(['operator_token', 'operator_token']);
    expect(of('operator_token')).toEqual(['operator_token', 'operator_token']);
    expect(of('api_key')).toEqual(['api_key', 'api_key']);
    expect(of('none')).toEqual(['none', 'none']);
    for (const m of ['private_key_jwt', 'client_secret', 'federated'] as const) expect(of(m)).toEqual([m, 'access_token']);
    expect(of('private_key_jwt', 'api_key')).toEqual(['private_key_jwt', 'api_key']);
  });
});

describe('describeStatement', () => {
  it('lists only what was stated, and never repeats a posture assertion', () => {
    expect(describeStatement({})).toEqual({});
    expect(describeStatement({ purpose: 'support', dpopBound: false, postureAssertion: 'aaa.bbb.ccc' }))
      .toEqual({ purpose: 'support', dpop_bound: false, posture_assertion: { presented: true, length: 11 } });
  });
});
