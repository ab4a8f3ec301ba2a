import { describe, expect, it } from 'vitest';
import { bearerChallenge, metadataUrlFor, protectedResourceMetadata } from './protected-resource.js';
import { MalformedCredential, readGatewayCredential } from './steps/credential.js';

describe('protected resource metadata and challenges (RFC 9728, RFC 6750)', () => {
  it('publishes a resource with a path under the well-known prefix', () => {
    expect(metadataUrlFor('http://127.0.0.1:8081')).toBe('http://127.0.0.1:8081/.well-known/oauth-protected-resource');
    expect(metadataUrlFor('https://gw.example/mcp/db')).toBe('https://gw.example/.well-known/oauth-protected-resource/mcp/db');
  });
  it('names the issuer as the authorization server', () => {
    const m = protectedResourceMetadata({ resource: 'https://gw.example', issuer: 'https://cp.example', name: 'gw', scopes: ['mcp:tools'] });
    expect(m).toMatchObject({ resource: 'https://gw.example', authorization_servers: ['https://cp.example'], bearer_methods_supported: ['header'], scopes_supported: ['mcp:tools'] });
  });
  it('builds challenges whose quoted values cannot be broken out of', () => {
    expect(bearerChallenge({ resource: 'https://gw.example/mcp/db', scopes: ['a', 'b'], error: 'insufficient_scope' }))
      .toBe('Bearer resource_metadata="https://gw.example/.well-known/oauth-protected-resource/mcp/db", scope="a b", error="insufficient_scope"');
    const c = bearerChallenge({ resource: 'https://gw.example', error: 'invalid_token', description: 'bad "token"\\\r\nx' });
    expect(c).toContain('error_description="bad tokenx"');
  });
});

describe('reading a credential at the gateway', () => {
  const req = (headers: Record<string, string | string[]>) => ({ headers, method: 'POST', url: '/v1/messages?x=1' }) as never;
  it('takes Authorization (Bearer or DPoP) or x-api-key, bound to the gateway URL and path', () => {
    expect(readGatewayCredential(req({ authorization: 'Bearer abc' }), 'https://gw.example')).toMatchObject({ scheme: 'bearer', token: 'abc', url: 'https://gw.example/v1/messages', method: 'POST' });
    expect(readGatewayCredential(req({ authorization: 'dpop abc', dpop: 'proof' }), 'https://gw.example')).toMatchObject({ scheme: 'dpop', token: 'abc', dpopProofs: ['proof'] });
    expect(readGatewayCredential(req({ 'x-api-key': 'k1' }), 'https://gw.example')).toMatchObject({ scheme: 'bearer', token: 'k1' });
    expect(readGatewayCredential(req({ 'x-api-key': 'k1', authorization: 'Bearer k1' }), 'https://gw.example')?.token).toBe('k1');
    expect(readGatewayCredential(req({}), 'https://gw.example')).toBeUndefined();
  });
  it('refuses two different credentials, malformed headers and repeated keys', () => {
    expect(() => readGatewayCredential(req({ 'x-api-key': 'k1', authorization: 'Bearer k2' }), 'https://gw.example')).toThrow(MalformedCredential);
    expect(() => readGatewayCredential(req({ authorization: 'Basic abc' }), 'https://gw.example')).toThrow(MalformedCredential);
    expect(() => readGatewayCredential(req({ 'x-api-key': 'a b' }), 'https://gw.example')).toThrow(MalformedCredential);
    expect(() => readGatewayCredential(req({ 'x-api-key': ['a', 'b'] }), 'https://gw.example')).toThrow(MalformedCredential);
  });
});
