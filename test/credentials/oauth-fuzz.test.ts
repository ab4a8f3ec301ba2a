import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { createAgent, type TestAgent } from '../support/oauth.js';

// Hostile input at the OAuth endpoints: whatever the form holds (known parameter names with garbage values,
// unknown names, repeats, control characters, huge values, broken encodings), the answer is a 4xx in the
// RFC 6749 error shape, never a 5xx, and nothing is issued or written.

const NAMES = [
  'grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'scope', 'resource', 'audience',
  'purpose', 'expires_in', 'assertion', 'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type',
  'requested_token_type', 'token', 'token_type_hint', 'x',
];
const GRANTS = ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:token-exchange', 'password', ''];

let h: Harness;
let agent: TestAgent;
beforeAll(async () => {
  h = await startHarness('sqlite');
  agent = await createAgent(h, 'fuzz-bot');
});
afterAll(async () => h?.close());

const value = fc.oneof(
  fc.constantFrom(...GRANTS, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'urn:ietf:params:oauth:token-type:access_token'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'a.b.c', '\u0000', '%ZZ', 'x'.repeat(9000), '-1', '1e9', '99999999999'),
  fc.constant('AGENT'),
);

async function counts() {
  const rows = async (table: 'oauth_tokens' | 'audit_events') => Number((await h.cp.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return { tokens: await rows('oauth_tokens') };
}

describe('OAuth endpoints under hostile forms', () => {
  it('never answer 5xx, always the RFC 6749 error shape, and never issue', async () => {
    const before = await counts();
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('/oauth/token', '/oauth/introspect', '/oauth/revoke'),
      fc.array(fc.tuple(fc.constantFrom(...NAMES), value), { maxLength: 8 }),
      fc.boolean(),
      async (url, pairs, raw) => {
        const body = raw
          ? pairs.map(([k, v]) => `${k}=${v.replaceAll('AGENT', agent.id)}`).join('&')
          : new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, v.replaceAll('AGENT', agent.id)])).toString();
        const res = await h.cp.http.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body });
        expect(res.statusCode, `${url} ${body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${url} ${body.slice(0, 200)}`).toBeLessThan(500);
        const parsed = JSON.parse(res.body);
        expect(typeof parsed.error).toBe('string');
        expect(res.headers['content-type']).toMatch(/^application\/json/);
      },
    ), { numRuns: 300 });
    expect(await counts()).toEqual(before);
  });

  it('refuses other media types and oversized bodies in the same shape', async () => {
    for (const [type, payload] of [['application/json', '{"grant_type":"client_credentials"}'], ['text/plain', 'grant_type=client_credentials'], ['application/x-www-form-urlencoded', `grant_type=${'a'.repeat(70_000)}`]] as const) {
      const res = await h.cp.http.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': type }, payload });
      expect([res.statusCode, JSON.parse(res.body).error], type).toEqual([400, 'invalid_request']);
    }
  });
});
