import { expect } from 'vitest';
import type { ControlPlane } from '../../src/app.js';
import type { Backend } from './backends.js';
import { activate } from './authz.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { startHarness, type Harness } from './harness.js';
import { clientAssertion, createAgent, type TestAgent } from './oauth.js';

// A world for the gateway tests: a real control plane and gateway listening on 127.0.0.1 (ports picked by the OS),
// the fake upstream standing in for OpenAI and Anthropic, model resources routed to it through /v1/upstreams, an
// agent with a registered client key, and a policy that lets the agent invoke some models and not others.
// Rules:
// - Everything is set up through the real API (resources, upstreams, agents, keys) and the real OAuth endpoint over
//   HTTP (client_credentials with private_key_jwt), so a test sees what a deployment would see. The only shortcut is
//   activating the policy text (test/support/authz.ts), whose lifecycle has its own tests.
// - Models are low-risk and internal so no approval is needed; the world names which are allowed and which denied.
// - Clients call the model name (the resource's name); the upstream sees the provider model in its place.
// - `assertUpstreamClean()` fails the test if the upstream ever received a Custos credential or anything but its own
//   key; the test files call it after each test.

/** Resource name → where it is served and whether the world's policy lets the agent invoke it. */
export const MODELS = {
  'chat-gpt': { upstream: 'fake-openai', providerModel: 'gpt-4o-2024-08-06', allowed: true },
  'chat-mini': { upstream: 'fake-openai', providerModel: 'gpt-4o-mini', allowed: false },
  embedder: { upstream: 'fake-openai', providerModel: 'text-embedding-3-small', allowed: true },
  'local-llama': { upstream: 'fake-local', providerModel: 'llama3.1:8b', allowed: true },
  claude: { upstream: 'fake-anthropic', providerModel: 'claude-sonnet-4-5', allowed: true },
  'claude-opus': { upstream: 'fake-anthropic', providerModel: 'claude-opus-4-1', allowed: false },
} as const;
export type ModelName = keyof typeof MODELS;
export const ALLOWED_MODELS = (Object.keys(MODELS) as ModelName[]).filter((m) => MODELS[m].allowed);
export const DENIED_MODELS = (Object.keys(MODELS) as ModelName[]).filter((m) => !MODELS[m].allowed);

export const AGENT = 'sdk-bot';

/**
 * The world's policy: agents named `sdk-*` may invoke the allowed models, each named; nothing else is permitted (an
 * agent named otherwise may invoke nothing). Tests that spend a budget or revoke use their own `sdk-*` agent.
 */
export function worldPolicy(): string {
  return ALLOWED_MODELS.map((m) => `@id("sdk-agents-invoke-${m}")\npermit (principal is Custos::Agent, action == Custos::Action::"invoke", resource == Custos::Model::"${m}") when { principal.name like "sdk-*" };`).join('\n');
}

export interface AuditEvent {
  id: string;
  seq: number;
  type: string;
  actor: { principal_id: string | null; principal_name: string | null; credential_id: string | null; [k: string]: unknown };
  target: { type: string; id: string | null; name: string | null } | null;
  outcome: string;
  decision?: string | null;
  reasons: string[];
  purpose?: string | null;
  details: Record<string, any>;
  [k: string]: unknown;
}

export interface GatewayWorld {
  h: Harness;
  fake: FakeUpstream;
  /** The control plane's base URL (the OAuth issuer). */
  cpUrl: string;
  /** The gateway's base URL (the audience of its tokens), or undefined if the control plane has no gateway. */
  gatewayUrl: string;
  agent: TestAgent;
  /** A management API call as the bootstrap admin over HTTP; throws unless the status is one of `expected`. */
  admin(method: string, path: string, body?: unknown, expected?: number[]): Promise<any>;
  /** An access token from /oauth/token over HTTP; `resource` defaults to the gateway URL (null: none sent). */
  accessToken(opts?: { agent?: TestAgent; resource?: string | null; scope?: string }): Promise<string>;
  /** The token endpoint's whole answer, for tests of refusals. */
  tokenResponse(opts?: { agent?: TestAgent; resource?: string | null; scope?: string }): Promise<{ status: number; body: any }>;
  /** An API key for the agent addressed to the gateway (`audience` overrides). */
  apiKey(opts?: { principal?: string; audience?: string[] }): Promise<{ id: string; key: string }>;
  /** Revokes an access token at /oauth/revoke, authenticated as its agent (RFC 7009). */
  revokeToken(token: string, agent?: TestAgent): Promise<number>;
  /** Audit events of a type (a trailing * matches a prefix) after a sequence number, oldest first, through the API. */
  auditEvents(type: string, afterSeq?: number): Promise<AuditEvent[]>;
  /** Every audit event after a sequence number, as stored text, oldest first (to search for what must not be there). */
  auditText(afterSeq?: number): Promise<string>;
  /** The last audit sequence number. */
  lastSeq(): Promise<number>;
  /** Waits until an audit event matching the predicate exists (the completion event follows the end of a stream). */
  waitForAudit(type: string, afterSeq: number, predicate?: (e: AuditEvent) => boolean, timeoutMs?: number): Promise<AuditEvent>;
  /** Another agent (with its own client key), allowed nothing unless a policy names it. */
  newAgent(name: string): Promise<TestAgent>;
  /** Fails the test if the upstream saw a Custos credential or a wrong key; then forgets what it saw. */
  assertUpstreamClean(): void;
  close(): Promise<void>;
}

type GatewayControlPlane = ControlPlane & { gatewayUrl?: () => string };

async function httpJson(method: string, url: string, opts: { token?: string; body?: unknown; form?: Record<string, string> } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: any;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

export async function startGatewayWorld(backend: Backend = 'sqlite', opts: { policy?: string } = {}): Promise<GatewayWorld> {
  const h = await startHarness(backend, { settings: { gatewayPort: '0' } });
  const fake = await startFakeUpstream();
  try {
    const cp = h.cp as GatewayControlPlane;
    const cpUrl = (await cp.listen()).replace(/\/+$/, '');
    if (typeof cp.gatewayUrl !== 'function') throw new Error('the control plane has no gatewayUrl() yet: the gateway listener has not landed');
    const gatewayUrl = cp.gatewayUrl().replace(/\/+$/, '');

    const admin = async (method: string, path: string, body?: unknown, expected = [200, 201, 204]) => {
      const r = await httpJson(method, `${cpUrl}${path}`, { token: h.adminToken, body });
      if (!expected.includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };

    for (const name of Object.keys(MODELS)) {
      await admin('POST', '/v1/resources', { name, kind: 'model', owner: 'bootstrap-admin', classification: 'internal', risk_tier: 'low' });
    }
    const routes = (upstream: string) => Object.fromEntries(Object.entries(MODELS).filter(([, m]) => m.upstream === upstream).map(([name, m]) => [name, m.providerModel]));
    await admin('POST', '/v1/upstreams', { name: 'fake-openai', provider: 'openai', base_url: `${fake.url}/v1`, key: fake.keys.openai, retries: 0, models: routes('fake-openai') });
    await admin('POST', '/v1/upstreams', { name: 'fake-local', provider: 'openai-compatible', base_url: `${fake.url}/v1`, key: fake.keys.openai, retries: 0, models: routes('fake-local') });
    await admin('POST', '/v1/upstreams', { name: 'fake-anthropic', provider: 'anthropic', base_url: `${fake.url}/v1`, key: fake.keys.anthropic, retries: 0, models: routes('fake-anthropic') });

    const agent = await createAgent(h, AGENT);
    await activate(h, opts.policy ?? worldPolicy());

    const now = () => Math.floor(h.clock.now().getTime() / 1000);
    const tokenResponse: GatewayWorld['tokenResponse'] = async (o = {}) => {
      const form: Record<string, string> = {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(o.agent ?? agent, cp.issuer(), now()),
      };
      const resource = o.resource === undefined ? gatewayUrl : o.resource;
      if (resource !== null) form.resource = resource;
      if (o.scope) form.scope = o.scope;
      const r = await httpJson('POST', `${cpUrl}/oauth/token`, { form });
      return { status: r.status, body: r.body };
    };
    const list = async (type: string, afterSeq: number): Promise<AuditEvent[]> => {
      const out: AuditEvent[] = [];
      let cursor: string | null = null;
      do {
        const q = new URLSearchParams({ type, after_seq: String(afterSeq), order: 'asc', limit: '200', ...(cursor ? { cursor } : {}) });
        const page = await admin('GET', `/v1/audit/events?${q}`);
        out.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor);
      return out;
    };
    const world: GatewayWorld = {
      h, fake, cpUrl, gatewayUrl, agent, admin,
      tokenResponse,
      async accessToken(o = {}) {
        const r = await tokenResponse(o);
        if (r.status !== 200) throw new Error(`token for ${o.resource === undefined ? gatewayUrl : o.resource}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.access_token as string;
      },
      async apiKey(o = {}) {
        const body = await admin('POST', '/v1/api-keys', { principal: o.principal ?? AGENT, audience: o.audience ?? [gatewayUrl], ttl_seconds: 3600 });
        return { id: body.id as string, key: body.key as string };
      },
      async revokeToken(token, who = agent) {
        const r = await httpJson('POST', `${cpUrl}/oauth/revoke`, {
          form: { token, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await clientAssertion(who, cp.issuer(), now()) },
        });
        return r.status;
      },
      auditEvents: (type, afterSeq = -1) => list(type, afterSeq),
      async auditText(afterSeq = -1) {
        const rows = await h.cp.db.kysely.selectFrom('audit_events').select(['canonical']).where('seq', '>', afterSeq).orderBy('seq').execute();
        return rows.map((r) => r.canonical).join('\n');
      },
      async lastSeq() {
        const page = await admin('GET', '/v1/audit/events?order=desc&limit=1');
        return page.items[0]?.seq ?? -1;
      },
      async waitForAudit(type, afterSeq, predicate = () => true, timeoutMs = 5000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const hit = (await list(type, afterSeq)).find(predicate);
          if (hit) return hit;
          if (Date.now() > until) throw new Error(`no ${type} audit event after seq ${afterSeq} within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      newAgent: (name) => createAgent(h, name),
      assertUpstreamClean() {
        const seen = [...fake.violations];
        fake.reset();
        expect(seen, 'the upstream must receive only its own key, never a Custos credential').toEqual([]);
      },
      async close() {
        await fake.close();
        await h.close();
      },
    };
    return world;
  } catch (error) {
    await fake.close();
    await h.close();
    throw error;
  }
}
