import type { Harness } from '../support/harness.js';

// One request per registered route, with what each operator role must get back. The role-matrix and
// "no token" tests walk the routes the running app publishes in /openapi.json and fail on any route that
// has no case here, so the list cannot silently fall behind the API.

export const ROLES = ['admin', 'security', 'auditor', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** ok: 2xx. allowed: passes authentication and the role check (not 401/403, not 5xx). forbidden: 403. */
export type Outcome = 'ok' | 'allowed' | 'forbidden';

export interface Req {
  method: string;
  url: string;
  body?: unknown;
}

export interface World {
  h: Harness;
  tokens: Record<Role, string>;
  /** Names of the operators behind the tokens. */
  names: Record<Role, string>;
  ownerTeam: string;
  uniq(prefix: string): string;
  /** An admin call that must succeed (fixtures). */
  admin(method: string, url: string, body?: unknown): Promise<any>;
}

export interface RouteCase {
  expect: Record<Role, Outcome>;
  /** Reads and computations that change nothing although they are POSTs (e.g. verify). */
  readOnly?: boolean;
  /** Server-sent events: checked over a real socket, then disconnected. */
  stream?: boolean;
  /** A route that declares its own body limit (the default is 1 MiB). */
  bodyLimit?: number;
  build(w: World, role: Role): Promise<Req>;
}

const all = (o: Outcome): Record<Role, Outcome> => ({ admin: o, security: o, auditor: o, owner: o });
const managers: Record<Role, Outcome> = { admin: 'ok', security: 'ok', auditor: 'forbidden', owner: 'ok' };
const staff: Record<Role, Outcome> = { admin: 'ok', security: 'ok', auditor: 'forbidden', owner: 'forbidden' };
const readers: Record<Role, Outcome> = { admin: 'ok', security: 'ok', auditor: 'ok', owner: 'forbidden' };
const adminOnly: Record<Role, Outcome> = { admin: 'ok', security: 'forbidden', auditor: 'forbidden', owner: 'forbidden' };
const auditReaders: Record<Role, Outcome> = { admin: 'allowed', security: 'allowed', auditor: 'allowed', owner: 'forbidden' };
const adminAllowed: Record<Role, Outcome> = { admin: 'allowed', security: 'forbidden', auditor: 'forbidden', owner: 'forbidden' };
const staffAllowed: Record<Role, Outcome> = { admin: 'allowed', security: 'allowed', auditor: 'forbidden', owner: 'forbidden' };

/** A fresh active agent owned by the owner-role operator. */
async function ownedAgent(w: World): Promise<string> {
  const name = w.uniq('agent');
  await w.admin('POST', '/v1/principals', { name, kind: 'agent', owner: w.names.owner, status: 'active' });
  return name;
}

async function ownedResource(w: World): Promise<string> {
  const name = w.uniq('res');
  await w.admin('POST', '/v1/resources', { name, kind: 'model', owner: w.names.owner });
  return name;
}

export const ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/principals': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: '/v1/principals', body: { name: w.uniq('new'), kind: 'agent', owner: w.names.owner } }),
  },
  'GET /v1/principals': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/principals?limit=5' }) },
  'GET /v1/principals/{ref}': { expect: all('ok'), build: async (w) => ({ method: 'GET', url: `/v1/principals/${await ownedAgent(w)}` }) },
  'PATCH /v1/principals/{ref}': {
    expect: managers,
    build: async (w) => ({ method: 'PATCH', url: `/v1/principals/${await ownedAgent(w)}`, body: { display_name: 'Renamed', reason: 'matrix' } }),
  },
  'POST /v1/principals/{ref}/{action}': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/principals/${await ownedAgent(w)}/suspend`, body: { reason: 'matrix' } }),
  },
  'POST /v1/principals/{ref}/review': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/principals/${await ownedAgent(w)}/review`, body: { reason: 'matrix' } }),
  },
  'POST /v1/teams': { expect: staff, build: async (w) => ({ method: 'POST', url: '/v1/teams', body: { name: w.uniq('team') } }) },
  'GET /v1/teams': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/teams' }) },
  'GET /v1/teams/{ref}': { expect: all('ok'), build: async (w) => ({ method: 'GET', url: `/v1/teams/${w.ownerTeam}` }) },
  'PATCH /v1/teams/{ref}': { expect: staff, build: async (w) => ({ method: 'PATCH', url: `/v1/teams/${w.ownerTeam}`, body: { description: 'matrix' } }) },
  'PUT /v1/teams/{ref}/members/{principal}': {
    // The owner-role operator asking to join (or widen) a team: refused, or team ownership would be self-service.
    expect: staff,
    build: async (w, role) => ({ method: 'PUT', url: `/v1/teams/${w.ownerTeam}/members/${w.names[role]}`, body: { role: 'member' } }),
  },
  'DELETE /v1/teams/{ref}/members/{principal}': {
    expect: staff,
    build: async (w) => {
      const name = w.uniq('member');
      await w.admin('POST', '/v1/principals', { name, kind: 'human' });
      await w.admin('PUT', `/v1/teams/${w.ownerTeam}/members/${name}`, {});
      return { method: 'DELETE', url: `/v1/teams/${w.ownerTeam}/members/${name}` };
    },
  },
  'POST /v1/resources': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: '/v1/resources', body: { name: w.uniq('res'), kind: 'dataset', owner: w.names.owner } }),
  },
  'GET /v1/resources': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/resources' }) },
  'GET /v1/resources/{ref}': { expect: all('ok'), build: async (w) => ({ method: 'GET', url: `/v1/resources/${await ownedResource(w)}` }) },
  'PATCH /v1/resources/{ref}': {
    expect: managers,
    build: async (w) => ({ method: 'PATCH', url: `/v1/resources/${await ownedResource(w)}`, body: { description: 'matrix' } }),
  },
  'DELETE /v1/resources/{ref}': { expect: managers, build: async (w) => ({ method: 'DELETE', url: `/v1/resources/${await ownedResource(w)}` }) },
  'POST /v1/operator-tokens': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: '/v1/operator-tokens', body: { principal: w.names.owner, role: 'owner', ttl_seconds: 3600 } }),
  },
  'GET /v1/operator-tokens': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/operator-tokens' }) },
  'POST /v1/operator-tokens/{id}/revoke': {
    // Security revokes (incident response) but cannot mint.
    expect: staff,
    build: async (w) => {
      const t = await w.admin('POST', '/v1/operator-tokens', { principal: w.names.auditor, role: 'auditor', ttl_seconds: 3600 });
      return { method: 'POST', url: `/v1/operator-tokens/${t.id}/revoke`, body: { reason: 'matrix' } };
    },
  },
  'GET /v1/whoami': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/whoami' }) },

  // The audit module's routes (owned elsewhere): only whether the role passes the check is asserted here.
  'GET /v1/audit/events': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/events?limit=2' }) },
  'GET /v1/audit/events/{seq}': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/events/0' }) },
  'GET /v1/audit/events/{seq}/proof': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/events/0/proof' }) },
  'GET /v1/audit/consistency': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/consistency?from=1&to=1' }) },
  'GET /v1/audit/checkpoints': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/checkpoints' }) },
  'GET /v1/audit/export': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/export?from_seq=0&to_seq=1' }) },
  'GET /v1/audit/stream': { expect: auditReaders, stream: true, build: async () => ({ method: 'GET', url: '/v1/audit/stream' }) },
  'POST /v1/audit/verify': { expect: auditReaders, readOnly: true, build: async () => ({ method: 'POST', url: '/v1/audit/verify', body: {} }) },
  'GET /v1/audit/retention': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/retention' }) },
  // Retention is audit administration: admins only. The digest is bogus, so nothing is ever pruned here.
  'GET /v1/audit/archive': { expect: adminAllowed, build: async () => ({ method: 'GET', url: '/v1/audit/archive?to_seq=256' }) },
  'POST /v1/audit/prune': { expect: adminAllowed, build: async () => ({ method: 'POST', url: '/v1/audit/prune', body: { to_seq: 256, archive_digest: '0'.repeat(64) } }) },

  // The findings module's routes (owned elsewhere): scan reports are written by admin and security only.
  'POST /v1/findings/report': {
    expect: staffAllowed,
    bodyLimit: 32 * 1024 * 1024,
    build: async () => ({
      method: 'POST', url: '/v1/findings/report',
      body: { scanner: { name: 'custos', version: '0' }, source: 'dir', target: '/tmp/matrix', incomplete: false, incomplete_reasons: [], findings: [] },
    }),
  },
  'GET /v1/findings': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/findings' }) },
  'GET /v1/findings/{id}': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/findings/0123456789abcdef0123456789abcdef' }) },
  'PATCH /v1/findings/{id}': { expect: staffAllowed, build: async () => ({ method: 'PATCH', url: '/v1/findings/0123456789abcdef0123456789abcdef', body: { status: 'accepted' } }) },
  'POST /v1/audit/hash': { expect: auditReaders, readOnly: true, build: async () => ({ method: 'POST', url: '/v1/audit/hash', body: { value: 'x' } }) },
};

/** Routes that are public on purpose (no token needed); anything else under /v1 must demand one. */
export const PUBLIC_V1_ROUTES = new Set(['GET /v1/audit/public-key']);

/** Every operation the app publishes, as 'METHOD /path/{param}', with whether the document marks it public. */
export function routesFromOpenApi(doc: { paths: Record<string, Record<string, { security?: unknown[] }>> }): Array<{ key: string; isPublic: boolean }> {
  const out: Array<{ key: string; isPublic: boolean }> = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      out.push({ key: `${method.toUpperCase()} ${path}`, isPublic: Array.isArray(op.security) && op.security.length === 0 });
    }
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

export async function buildWorld(h: Harness): Promise<World> {
  let n = 0;
  const admin = async (method: string, url: string, body?: unknown) => {
    const r = await h.call(method, url, body);
    if (r.status >= 300) throw new Error(`fixture ${method} ${url} failed: ${r.status} ${r.text}`);
    return r.body;
  };
  const names = { admin: 'op-admin', security: 'op-security', auditor: 'op-auditor', owner: 'op-owner' } as Record<Role, string>;
  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) tokens[role] = await h.operator(names[role], role);
  await admin('POST', '/v1/teams', { name: 'owners-team' });
  await admin('PUT', `/v1/teams/owners-team/members/${names.owner}`, { role: 'member' });
  return { h, tokens, names, ownerTeam: 'owners-team', uniq: (p) => `${p}-${++n}`, admin };
}
