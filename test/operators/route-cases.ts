import type { Harness } from '../support/harness.js';
import { ROLES, type Req, type Role, type RouteCase, type World } from './cases/shared.js';
import { API_KEYS_ROUTE_CASES } from './cases/api-keys.cases.js';
import { AUDIT_ROUTE_CASES } from './cases/audit.cases.js';
import { CLIENT_CREDENTIALS_ROUTE_CASES } from './cases/client-credentials.cases.js';
import { CREDENTIALS_INVENTORY_ROUTE_CASES } from './cases/credentials-inventory.cases.js';
import { FEDERATION_ROUTE_CASES } from './cases/federation.cases.js';
import { FINDINGS_ROUTE_CASES } from './cases/findings.cases.js';
import { IDENTITY_ROUTE_CASES } from './cases/identity.cases.js';
import { OPERATORS_ROUTE_CASES } from './cases/operators.cases.js';
import { SIGNING_KEYS_ROUTE_CASES } from './cases/signing-keys.cases.js';
import { SESSIONS_ROUTE_CASES } from './cases/sessions.cases.js';
import { IDENTITY_PROVIDER_ROUTE_CASES } from './cases/identity-providers.cases.js';
import { OAUTH_CLIENTS_ROUTE_CASES } from './cases/oauth-clients.cases.js';
import { AUTHZ_POLICIES_ROUTE_CASES } from './cases/authz-policies.cases.js';
import { AUTHZ_GRANTS_ROUTE_CASES } from './cases/authz-grants.cases.js';
import { AUTHZ_DEVICES_ROUTE_CASES } from './cases/authz-devices.cases.js';
import { AUTHZEN_ACCESS_ROUTE_CASES } from './cases/authzen.cases.js';
import { APPROVALS_REQUESTS_ROUTE_CASES } from './cases/approvals-requests.cases.js';
import { APPROVALS_BREAK_GLASS_ROUTE_CASES } from './cases/approvals-break-glass.cases.js';
import { APPROVALS_REVIEWS_ROUTE_CASES } from './cases/approvals-reviews.cases.js';
import { APPROVALS_WEBHOOKS_ROUTE_CASES } from './cases/approvals-webhooks.cases.js';
import { GATEWAY_UPSTREAMS_ROUTE_CASES } from './cases/gateway-upstreams.cases.js';
import { GATEWAY_LIMITS_ROUTE_CASES } from './cases/gateway-limits.cases.js';
import { GATEWAY_MCP_SERVERS_ROUTE_CASES } from './cases/gateway-mcp-servers.cases.js';

// One request per registered route, with what each operator role must get back. The role-matrix and
// "no token" tests walk the routes the running app publishes in /openapi.json and fail on any route that
// has no case here, so the list cannot silently fall behind the API.

export * from './cases/shared.js';

// One file of cases per module (cases/*.cases.ts), so each module's routes are kept beside each other.
export const ROUTE_CASES: Record<string, RouteCase> = {
  ...IDENTITY_ROUTE_CASES,
  ...OPERATORS_ROUTE_CASES,
  ...AUDIT_ROUTE_CASES,
  ...FINDINGS_ROUTE_CASES,
  ...FEDERATION_ROUTE_CASES,
  ...CREDENTIALS_INVENTORY_ROUTE_CASES,
  ...API_KEYS_ROUTE_CASES,
  ...SIGNING_KEYS_ROUTE_CASES,
  ...CLIENT_CREDENTIALS_ROUTE_CASES,
  ...SESSIONS_ROUTE_CASES,
  ...IDENTITY_PROVIDER_ROUTE_CASES,
  ...OAUTH_CLIENTS_ROUTE_CASES,
  ...AUTHZ_POLICIES_ROUTE_CASES,
  ...AUTHZ_GRANTS_ROUTE_CASES,
  ...AUTHZ_DEVICES_ROUTE_CASES,
  ...AUTHZEN_ACCESS_ROUTE_CASES,
  ...APPROVALS_REQUESTS_ROUTE_CASES,
  ...APPROVALS_BREAK_GLASS_ROUTE_CASES,
  ...APPROVALS_REVIEWS_ROUTE_CASES,
  ...APPROVALS_WEBHOOKS_ROUTE_CASES,
  ...GATEWAY_UPSTREAMS_ROUTE_CASES,
  ...GATEWAY_LIMITS_ROUTE_CASES,
  ...GATEWAY_MCP_SERVERS_ROUTE_CASES,
};

/** Settings a harness walking these cases needs: the session cases sign in by pasting an operator token, which stays
 * on although the identity-provider cases configure providers. */
export const ROUTE_CASE_SETTINGS = { operatorTokenSignin: 'true' } as const;

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

/** One admin request per body-taking /v1 route the app publishes (POST, PATCH, PUT), built from its case. */
export async function writeRouteRequests(w: World, opts: { skipReadOnly?: boolean } = {}): Promise<Array<{ key: string; req: Req; bodyLimit: number }>> {
  const routes = routesFromOpenApi((await w.h.call('GET', '/openapi.json', undefined, null)).body);
  const out: Array<{ key: string; req: Req; bodyLimit: number }> = [];
  for (const r of routes) {
    const c = ROUTE_CASES[r.key];
    if (!c || !/^(POST|PATCH|PUT) \/v1\//.test(r.key) || r.isPublic || (opts.skipReadOnly && c.readOnly)) continue;
    const req = await c.build(w, 'admin');
    out.push({ key: r.key, req: { ...req, body: req.body ?? {} }, bodyLimit: c.bodyLimit ?? 1024 * 1024 });
  }
  return out;
}
